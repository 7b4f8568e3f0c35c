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

    /// <summary>
    /// The CUDA kernel on <see cref="Cuda.CudaDevice.Emulator"/>: the same generated CUDA C, compiled with the machine's
    /// C++ compiler and run on the CPU with CUDA's semantics and checks. Slow; for validating kernels without a GPU.
    /// Never chosen by <see cref="Auto"/>.
    /// </summary>
    Emulator,
}
