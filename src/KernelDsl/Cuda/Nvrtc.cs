using System;
using System.Runtime.InteropServices;

namespace KernelDsl.Cuda;

/// <summary>
/// Raw NVRTC entry points (the C API of <c>nvrtc.h</c>), bound with <c>[LibraryImport]</c>.
/// Every function returns an <see cref="Status"/> code; <see cref="Check"/> turns failures
/// into exceptions.
/// </summary>
internal static partial class Nvrtc
{
    /// <summary>Logical name resolved to a real soname by <see cref="CudaLibraryResolver"/>.</summary>
    internal const string LibraryName = "nvrtc";

    /// <summary><c>nvrtcResult</c>; only success is named, failures are described by <see cref="ErrorString"/>.</summary>
    internal enum Status
    {
        Success = 0,
    }

    // An explicit static constructor runs before any of the P/Invokes below, so the resolver
    // is in place even for a caller that skipped EnsureLoaded.
    static Nvrtc() => CudaLibraryResolver.Install();

    /// <summary>Loads NVRTC or throws <see cref="NvrtcUnavailableException"/> naming what was tried.</summary>
    internal static void EnsureLoaded()
    {
        if (!CudaLibraryResolver.TryLoad(LibraryName, out _))
        {
            throw new NvrtcUnavailableException(CudaLibraryResolver.CandidatesFor(LibraryName));
        }
    }

    /// <summary>Throws <see cref="InvalidOperationException"/> when <paramref name="status"/> is not success.</summary>
    internal static void Check(Status status, string function)
    {
        if (status != Status.Success)
        {
            throw new InvalidOperationException($"{function} failed: {ErrorString(status)} ({(int)status}).");
        }
    }

    /// <summary>NVRTC's own text for a status code.</summary>
    internal static string ErrorString(Status status) =>
        // The returned pointer is a static string owned by NVRTC: copy it, never free it.
        Marshal.PtrToStringUTF8(nvrtcGetErrorString(status)) ?? status.ToString();

    [LibraryImport(LibraryName)]
    internal static partial IntPtr nvrtcGetErrorString(Status result);

    [LibraryImport(LibraryName)]
    internal static partial Status nvrtcVersion(out int major, out int minor);

    // Both exist from NVRTC 11.2 on, the oldest soname the resolver probes.
    [LibraryImport(LibraryName)]
    internal static partial Status nvrtcGetNumSupportedArchs(out int count);

    [LibraryImport(LibraryName)]
    internal static partial Status nvrtcGetSupportedArchs([Out] int[] archs);

    // No headers: the generated CUDA C is self-contained, so the two header arrays stay null.
    [LibraryImport(LibraryName, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial Status nvrtcCreateProgram(
        out IntPtr program, string source, string name, int numHeaders, IntPtr headers, IntPtr includeNames);

    [LibraryImport(LibraryName, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial Status nvrtcCompileProgram(IntPtr program, int numOptions, string[] options);

    [LibraryImport(LibraryName)]
    internal static partial Status nvrtcDestroyProgram(ref IntPtr program);

    [LibraryImport(LibraryName)]
    internal static partial Status nvrtcGetProgramLogSize(IntPtr program, out nuint size);

    [LibraryImport(LibraryName)]
    internal static partial Status nvrtcGetProgramLog(IntPtr program, [Out] byte[] log);

    [LibraryImport(LibraryName)]
    internal static partial Status nvrtcGetPTXSize(IntPtr program, out nuint size);

    [LibraryImport(LibraryName)]
    internal static partial Status nvrtcGetPTX(IntPtr program, [Out] byte[] ptx);

    [LibraryImport(LibraryName)]
    internal static partial Status nvrtcGetCUBINSize(IntPtr program, out nuint size);

    [LibraryImport(LibraryName)]
    internal static partial Status nvrtcGetCUBIN(IntPtr program, [Out] byte[] cubin);
}
