using System;
using System.Diagnostics;
using System.IO;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics.X86;

namespace KernelDsl.Benchmarks;

/// <summary>
/// Keeps OpenBLAS, the GEMM peer, on the kernels this CPU can run. OpenBLAS picks its kernels from the CPU model when
/// it loads, and a build older than the CPU (Debian's 0.3.21 on an Emerald Rapids Xeon) does not know the model and
/// falls back to its generic SSE3 "Prescott" kernels, a fraction of the machine's speed: every ratio against that
/// peer would flatter us. <c>OPENBLAS_CORETYPE</c> overrides the choice, but OpenBLAS reads it only while loading,
/// so a run that finds the fallback starts itself again, once, with the variable set.
/// </summary>
internal static class OpenBlasCore
{
    private const string Variable = "OPENBLAS_CORETYPE";

    private const string GenericCore = "Prescott";

    /// <summary>
    /// The exit code of this program run again with a core that suits the CPU, or null when OpenBLAS's own choice
    /// stands: it knew the CPU, the variable is already set (by the user or by the first run), or the CPU has no
    /// AVX2 for a better core to use.
    /// </summary>
    public static unsafe int? RerunIfGeneric(string[] args)
    {
        string? core = CoreForThisCpu();
        if (core is null || Environment.GetEnvironmentVariable(Variable) is not null
            || Marshal.PtrToStringUTF8((nint)OpenBlasNative.GetCoreName()) != GenericCore)
        {
            return null;
        }
        Console.WriteLine($"OpenBLAS does not know this CPU and chose its generic {GenericCore} kernels; running again with {Variable}={core}.");
        string host = Environment.ProcessPath ?? throw new InvalidOperationException("The path of this process is unknown.");
        var start = new ProcessStartInfo(host) { UseShellExecute = false };
        if (Path.GetFileNameWithoutExtension(host) == "dotnet")
        {
            start.ArgumentList.Add(typeof(OpenBlasCore).Assembly.Location);
        }
        foreach (string argument in args)
        {
            start.ArgumentList.Add(argument);
        }
        start.Environment[Variable] = core;
        using var rerun = Process.Start(start) ?? throw new InvalidOperationException($"Could not start {host}.");
        rerun.WaitForExit();
        return rerun.ExitCode;
    }

    /// <summary>OpenBLAS's name for the widest kernels this CPU runs (its Skylake-X kernels need AVX-512F, its Haswell ones AVX2 and FMA).</summary>
    private static string? CoreForThisCpu() =>
        Avx512F.IsSupported ? "SkylakeX" :
        Avx2.IsSupported && Fma.IsSupported ? "Haswell" :
        null;
}
