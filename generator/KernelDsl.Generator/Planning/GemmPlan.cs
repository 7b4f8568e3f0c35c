using KernelDsl.Generator.Model;
using KernelDsl.Generator.Parsing;

namespace KernelDsl.Generator.Planning;

/// <summary>
/// Every decision about one GEMM kernel. Emitters print this and decide nothing. The CPU fallback has no entry:
/// its microkernels are the runtime's, and its blocking is sized at run time for the caches of the machine it runs on
/// (<c>KernelDsl.Cpu.CpuBlocking</c>).
/// </summary>
/// <param name="Kernel">Where the generated members go.</param>
/// <param name="EntryPoint">The CUDA <c>extern "C"</c> function name.</param>
/// <param name="Operands">Element types and transposes.</param>
/// <param name="Epilogue">Bias and activation.</param>
/// <param name="Cuda">Thread-block tiling of the CUDA kernel (sm_80 and newer).</param>
/// <param name="Hopper">The sm_90a kernel launched instead on compute capability 9.0, when the layout and tile allow one.</param>
internal sealed record GemmPlan(
    KernelIdentity Kernel,
    string EntryPoint,
    GemmOperands Operands,
    EpilogueSpec Epilogue,
    CudaGemmPlan Cuda,
    HopperGemmPlan? Hopper);
