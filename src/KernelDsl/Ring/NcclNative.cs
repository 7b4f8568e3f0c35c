using System;
using System.Collections.Generic;
using System.Runtime.InteropServices;
using System.Threading;

namespace KernelDsl.Ring;

/// <summary>
/// The entry points of NCCL's <c>libnccl.so.2</c> the NCCL ring uses, bound as unmanaged function pointers
/// taken with <see cref="NativeLibrary.GetExport"/> (the assembly's one import resolver belongs to the CUDA
/// bindings). Communicators and streams are pointers (<c>ncclComm_t</c>, <c>cudaStream_t</c> = <c>CUstream</c>).
/// </summary>
internal static unsafe class NcclNative
{
    internal const int Success = 0;         // ncclSuccess
    internal const int InProgress = 7;      // ncclInProgress: a non-blocking call has not finished; not an error
    internal const int Uint8 = 1;           // ncclUint8: the ring moves bytes

    /// <summary>The sonames probed, in order: the runtime package's, then the -dev package's link name.</summary>
    internal static readonly IReadOnlyList<string> Candidates = ["libnccl.so.2", "libnccl.so"];

    private static readonly Lazy<string?> Unavailability = new(Load, LazyThreadSafetyMode.ExecutionAndPublication);

    internal static delegate* unmanaged<NcclUniqueId*, int> GetUniqueId { get; private set; }
    internal static delegate* unmanaged<IntPtr*, int, NcclUniqueId, int, int> CommInitRank { get; private set; }
    internal static delegate* unmanaged<IntPtr, int> CommDestroy { get; private set; }
    internal static delegate* unmanaged<IntPtr, int> CommAbort { get; private set; }
    internal static delegate* unmanaged<IntPtr, int*, int> CommGetAsyncError { get; private set; }
    internal static delegate* unmanaged<int> GroupStart { get; private set; }
    internal static delegate* unmanaged<int> GroupEnd { get; private set; }
    internal static delegate* unmanaged<void*, nuint, int, int, IntPtr, IntPtr, int> Send { get; private set; }
    internal static delegate* unmanaged<void*, nuint, int, int, IntPtr, IntPtr, int> Recv { get; private set; }
    internal static delegate* unmanaged<int, byte*> GetErrorString { get; private set; }

    /// <summary>Whether NCCL can be loaded here; never throws (and says nothing about a CUDA device).</summary>
    internal static bool IsAvailable => Unavailability.Value is null;

    /// <summary>Loads NCCL and binds every entry point, or throws <see cref="NcclUnavailableException"/> saying why not.</summary>
    internal static void EnsureLoaded()
    {
        if (Unavailability.Value is { } reason)
        {
            throw new NcclUnavailableException(reason);
        }
    }

    /// <summary>Throws <see cref="NcclException"/> naming <paramref name="function"/> unless <paramref name="result"/> is <c>ncclSuccess</c>.</summary>
    internal static void Check(int result, string function)
    {
        if (result != Success)
        {
            throw new NcclException(function, result, Describe(result));
        }
    }

    /// <summary>NCCL's text for a result (a static string owned by NCCL).</summary>
    internal static string Describe(int result) =>
        Marshal.PtrToStringUTF8((IntPtr)GetErrorString(result)) ?? $"ncclResult_t {result}";

    private static string? Load()
    {
        var exports = NativeExports.LoadFirst(Candidates);
        if (exports is null)
        {
            return $"NCCL was not found (tried {string.Join(", ", Candidates)}). The NCCL ring runs on machines with NVIDIA GPUs and NCCL " +
                "installed (NVIDIA's libnccl2 package, or the copy that ships with PyTorch on LD_LIBRARY_PATH); on CPU machines use RingTransport.Mpi.";
        }

        IntPtr Export(string name) => exports.Export(name);

        GetUniqueId = (delegate* unmanaged<NcclUniqueId*, int>)Export("ncclGetUniqueId");
        CommInitRank = (delegate* unmanaged<IntPtr*, int, NcclUniqueId, int, int>)Export("ncclCommInitRank");
        CommDestroy = (delegate* unmanaged<IntPtr, int>)Export("ncclCommDestroy");
        CommAbort = (delegate* unmanaged<IntPtr, int>)Export("ncclCommAbort");
        CommGetAsyncError = (delegate* unmanaged<IntPtr, int*, int>)Export("ncclCommGetAsyncError");
        GroupStart = (delegate* unmanaged<int>)Export("ncclGroupStart");
        GroupEnd = (delegate* unmanaged<int>)Export("ncclGroupEnd");
        Send = (delegate* unmanaged<void*, nuint, int, int, IntPtr, IntPtr, int>)Export("ncclSend");
        Recv = (delegate* unmanaged<void*, nuint, int, int, IntPtr, IntPtr, int>)Export("ncclRecv");
        GetErrorString = (delegate* unmanaged<int, byte*>)Export("ncclGetErrorString");
        var missing = exports.Missing;
        return missing.Count == 0
            ? null
            : $"The NCCL library found lacks {string.Join(", ", missing)}: the ring needs NCCL 2.7 or later (point-to-point send/receive).";
    }
}
