using System;
using System.Linq;
using KernelDsl.Cuda;

namespace KernelDsl.GpuRunner;

/// <summary>info: what this process finds (device, NVRTC, cuBLAS) and the kernels it carries.</summary>
internal static class InfoCommand
{
    public static int Run(Options options)
    {
        Console.WriteLine(CudaDevice.IsAvailable ? $"device: {CudaDevice.Default}" : $"device: none ({CudaDevice.UnavailableReason})");
        try
        {
            Console.WriteLine($"NVRTC {NvrtcCompiler.Version}: sm_{string.Join(", sm_", NvrtcCompiler.SupportedArchitectures)}");
        }
        catch (NvrtcUnavailableException e)
        {
            Console.WriteLine($"NVRTC: none ({e.Message})");
        }
        if (CudaDevice.IsAvailable)
        {
            using var cublas = Cublas.TryCreate(out string? reason);
            Console.WriteLine(cublas is null ? $"cuBLAS: none ({reason})" : $"cuBLAS {cublas.Version} ({cublas.Library})");
        }
        else
        {
            Console.WriteLine($"cuBLAS: not probed without a device (candidates: {string.Join(", ", Cublas.Candidates())})");
        }
        Console.WriteLine($"kernel cache: {KernelCache.Directory}");
        Console.WriteLine();
        foreach (var kernel in KernelCatalog.Matching(KernelCatalog.All, options.Filter))
        {
            Console.WriteLine($"{kernel.Kind,-9} {kernel.Description}");
        }
        Console.WriteLine();
        Console.WriteLine($"{KernelCatalog.Gemms.Count} GEMMs, {KernelCatalog.Attentions.Count} attention kernels; {KernelCatalog.All.Sum(k => k.Source.Length) / 1024} KiB of CUDA C");
        return ExitCodes.Passed;
    }
}
