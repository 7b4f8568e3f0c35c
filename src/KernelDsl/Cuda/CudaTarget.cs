namespace KernelDsl.Cuda;

/// <summary>The GPU architecture and output kind to compile for.</summary>
/// <param name="Arch">Compute capability times ten without the dot, e.g. 80 for sm_80, 90 for sm_90.</param>
/// <param name="Output">PTX or CUBIN.</param>
public readonly record struct CudaTarget(int Arch, CudaOutput Output)
{
    /// <summary>The <c>--gpu-architecture</c> value: <c>compute_XX</c> for PTX, <c>sm_XX</c> for CUBIN.</summary>
    public string GpuArchitecture => (Output == CudaOutput.Ptx ? "compute_" : "sm_") + Arch;
}
