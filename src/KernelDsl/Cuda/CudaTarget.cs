namespace KernelDsl.Cuda;

/// <summary>The GPU architecture and output kind to compile for.</summary>
/// <param name="Arch">Compute capability times ten without the dot, e.g. 80 for sm_80, 90 for sm_90.</param>
/// <param name="Output">PTX or CUBIN.</param>
/// <param name="ArchSpecific">
/// The architecture-specific variant, <c>sm_90a</c> rather than <c>sm_90</c>: it may use the instructions only
/// that architecture has (Hopper's <c>wgmma</c>, <c>setmaxnreg</c>, TMA multicast), and its code runs on that
/// architecture alone, not on later ones. Needs NVRTC 12.0 or newer (<see cref="NvrtcCompiler.ArchSpecificMinimum"/>).
/// </param>
public readonly record struct CudaTarget(int Arch, CudaOutput Output, bool ArchSpecific = false)
{
    /// <summary>
    /// The <c>--gpu-architecture</c> value: <c>compute_XX</c> for PTX, <c>sm_XX</c> for CUBIN, with an
    /// <c>a</c> appended when <see cref="ArchSpecific"/> (<c>sm_90a</c>).
    /// </summary>
    public string GpuArchitecture => (Output == CudaOutput.Ptx ? "compute_" : "sm_") + Arch + (ArchSpecific ? "a" : "");
}
