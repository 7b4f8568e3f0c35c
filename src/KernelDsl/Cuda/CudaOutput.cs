namespace KernelDsl.Cuda;

/// <summary>What NVRTC produces for a <see cref="CudaTarget"/>.</summary>
public enum CudaOutput
{
    /// <summary>PTX text for a virtual architecture (<c>compute_XX</c>); the driver JIT-compiles it.</summary>
    Ptx,

    /// <summary>A CUBIN for a real architecture (<c>sm_XX</c>), with a ptxas resource report.</summary>
    Cubin,
}
