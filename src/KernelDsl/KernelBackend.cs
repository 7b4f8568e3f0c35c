namespace KernelDsl;

/// <summary>Where a kernel runs.</summary>
public enum KernelBackend
{
    /// <summary>CUDA when a device is available, else the CPU fallback.</summary>
    Auto,

    /// <summary>The CUDA kernel on <see cref="Cuda.CudaDevice.Default"/>; an error when there is no device.</summary>
    Cuda,

    /// <summary>The SIMD C# fallback, whatever hardware is present.</summary>
    Cpu,
}
