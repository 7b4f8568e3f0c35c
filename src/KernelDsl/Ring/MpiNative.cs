using System;
using System.Collections.Generic;
using System.Runtime.InteropServices;
using System.Threading;

namespace KernelDsl.Ring;

/// <summary>
/// The few entry points of Open MPI's <c>libmpi.so.40</c> the MPI ring uses, bound as unmanaged function
/// pointers taken with <see cref="NativeLibrary.GetExport"/>.
/// </summary>
/// <remarks>
/// Not <c>[LibraryImport]</c>: an assembly has one import resolver and <c>CudaLibraryResolver</c> owns it,
/// and Open MPI's predefined handles (<c>MPI_COMM_WORLD</c>, <c>MPI_BYTE</c>, <c>MPI_ERRORS_RETURN</c>) are
/// not constants but the addresses of exported globals, which only <see cref="NativeLibrary.GetExport"/>
/// reaches. Every handle (communicator, datatype, request) is a pointer in Open MPI, hence <see cref="IntPtr"/>;
/// MPICH's integer handles are not supported, and its <c>libmpi.so.12</c> is not probed.
/// </remarks>
internal static unsafe class MpiNative
{
    internal const int Success = 0;
    internal const int ErrorInStatus = 18;      // MPI_ERR_IN_STATUS
    internal const int ErrorTruncate = 15;      // MPI_ERR_TRUNCATE
    internal const int ThreadMultiple = 3;      // MPI_THREAD_MULTIPLE; SINGLE = 0, FUNNELED = 1, SERIALIZED = 2
    internal const int MaxErrorString = 256;    // MPI_MAX_ERROR_STRING

    /// <summary>The sonames probed, in order: the Open MPI 3.x/4.x/5.x ABI, then the -dev package's link name.</summary>
    internal static readonly IReadOnlyList<string> Candidates = ["libmpi.so.40", "libmpi.so"];

    private static readonly Lazy<string?> Unavailability = new(Load, LazyThreadSafetyMode.ExecutionAndPublication);

    internal static IntPtr CommWorld { get; private set; }
    internal static IntPtr Byte { get; private set; }
    internal static IntPtr ErrorsReturn { get; private set; }

    internal static delegate* unmanaged<int*, int> Initialized { get; private set; }
    internal static delegate* unmanaged<int*, int> Finalized { get; private set; }
    internal static delegate* unmanaged<int*, byte***, int, int*, int> InitThread { get; private set; }
    internal static delegate* unmanaged<int*, int> QueryThread { get; private set; }
    internal static delegate* unmanaged<int> Finalize { get; private set; }
    internal static delegate* unmanaged<IntPtr, int, int> Abort { get; private set; }
    internal static delegate* unmanaged<IntPtr, IntPtr*, int> CommDup { get; private set; }
    internal static delegate* unmanaged<IntPtr*, int> CommFree { get; private set; }
    internal static delegate* unmanaged<IntPtr, int*, int> CommRank { get; private set; }
    internal static delegate* unmanaged<IntPtr, int*, int> CommSize { get; private set; }
    internal static delegate* unmanaged<IntPtr, IntPtr, int> CommSetErrhandler { get; private set; }
    internal static delegate* unmanaged<void*, int, IntPtr, int, int, IntPtr, IntPtr*, int> Isend { get; private set; }
    internal static delegate* unmanaged<void*, int, IntPtr, int, int, IntPtr, IntPtr*, int> Irecv { get; private set; }
    internal static delegate* unmanaged<int, IntPtr*, int*, MpiStatus*, int> Testall { get; private set; }
    internal static delegate* unmanaged<IntPtr*, int*, MpiStatus*, int> Test { get; private set; }
    internal static delegate* unmanaged<MpiStatus*, IntPtr, int*, int> GetCount { get; private set; }
    internal static delegate* unmanaged<void*, int, IntPtr, int, IntPtr, int> Bcast { get; private set; }
    internal static delegate* unmanaged<int, byte*, int*, int> ErrorString { get; private set; }

    /// <summary>Whether Open MPI's library can be loaded here; never throws.</summary>
    internal static bool IsAvailable => Unavailability.Value is null;

    /// <summary>Loads the library and binds every entry point, or throws <see cref="MpiUnavailableException"/> saying why not.</summary>
    internal static void EnsureLoaded()
    {
        if (Unavailability.Value is { } reason)
        {
            throw new MpiUnavailableException(reason);
        }
    }

    /// <summary>Throws <see cref="MpiException"/> naming <paramref name="function"/> unless <paramref name="code"/> is <c>MPI_SUCCESS</c>.</summary>
    internal static void Check(int code, string function)
    {
        if (code != Success)
        {
            throw new MpiException(function, code, Describe(code));
        }
    }

    /// <summary>Open MPI's text for an error code (<c>MPI_Error_string</c>), or the bare code outside MPI's lifetime.</summary>
    internal static string Describe(int code)
    {
        // Open MPI aborts the process when MPI_Error_string is called before MPI_Init or after MPI_Finalize.
        int initialized = 0, finalized = 1;
        byte* text = stackalloc byte[MaxErrorString];
        int length = 0;
        return Initialized(&initialized) == Success && initialized != 0
            && Finalized(&finalized) == Success && finalized == 0
            && ErrorString(code, text, &length) == Success
            ? Marshal.PtrToStringUTF8((IntPtr)text, length)
            : $"MPI error {code}";
    }

    /// <summary>Binds everything; returns why it could not, or null.</summary>
    private static string? Load()
    {
        var exports = NativeExports.LoadFirst(Candidates);
        if (exports is null)
        {
            return $"Open MPI's library was not found (tried {string.Join(", ", Candidates)}). " +
                "Install Open MPI (Debian/Ubuntu: apt-get install openmpi-bin libopenmpi-dev) and run the program under mpirun.";
        }

        IntPtr Export(string name) => exports.Export(name);

        // The predefined handles first: their absence means a library with another ABI (MPICH, say).
        CommWorld = Export("ompi_mpi_comm_world");
        Byte = Export("ompi_mpi_byte");
        ErrorsReturn = Export("ompi_mpi_errors_return");
        Initialized = (delegate* unmanaged<int*, int>)Export("MPI_Initialized");
        Finalized = (delegate* unmanaged<int*, int>)Export("MPI_Finalized");
        InitThread = (delegate* unmanaged<int*, byte***, int, int*, int>)Export("MPI_Init_thread");
        QueryThread = (delegate* unmanaged<int*, int>)Export("MPI_Query_thread");
        Finalize = (delegate* unmanaged<int>)Export("MPI_Finalize");
        Abort = (delegate* unmanaged<IntPtr, int, int>)Export("MPI_Abort");
        CommDup = (delegate* unmanaged<IntPtr, IntPtr*, int>)Export("MPI_Comm_dup");
        CommFree = (delegate* unmanaged<IntPtr*, int>)Export("MPI_Comm_free");
        CommRank = (delegate* unmanaged<IntPtr, int*, int>)Export("MPI_Comm_rank");
        CommSize = (delegate* unmanaged<IntPtr, int*, int>)Export("MPI_Comm_size");
        CommSetErrhandler = (delegate* unmanaged<IntPtr, IntPtr, int>)Export("MPI_Comm_set_errhandler");
        Isend = (delegate* unmanaged<void*, int, IntPtr, int, int, IntPtr, IntPtr*, int>)Export("MPI_Isend");
        Irecv = (delegate* unmanaged<void*, int, IntPtr, int, int, IntPtr, IntPtr*, int>)Export("MPI_Irecv");
        Testall = (delegate* unmanaged<int, IntPtr*, int*, MpiStatus*, int>)Export("MPI_Testall");
        Test = (delegate* unmanaged<IntPtr*, int*, MpiStatus*, int>)Export("MPI_Test");
        GetCount = (delegate* unmanaged<MpiStatus*, IntPtr, int*, int>)Export("MPI_Get_count");
        Bcast = (delegate* unmanaged<void*, int, IntPtr, int, IntPtr, int>)Export("MPI_Bcast");
        ErrorString = (delegate* unmanaged<int, byte*, int*, int>)Export("MPI_Error_string");
        var missing = exports.Missing;
        return missing.Count == 0
            ? null
            : $"The MPI library loaded is not Open MPI (or too old): it lacks {string.Join(", ", missing)}. " +
                "The MPI ring binds Open MPI's ABI (handles are pointers to exported globals); MPICH and its derivatives are not supported.";
    }
}
