using System;
using KernelDsl.Cuda;

namespace KernelDsl.GpuRunner;

/// <summary>The NVRTC this process loads, checked once before any kernel is compiled.</summary>
internal static class NvrtcProbe
{
    /// <summary>"13.0" or similar; null (after printing why) when no NVRTC loads, which makes every kernel fail.</summary>
    public static string? Describe()
    {
        try
        {
            return NvrtcCompiler.Version.ToString();
        }
        catch (NvrtcUnavailableException e)
        {
            Console.WriteLine($"no NVRTC: {e.Message} (on the GPU machine, bench/gpu/run.sh puts CUDA 13's lib folder on LD_LIBRARY_PATH)");
            return null;
        }
    }
}
