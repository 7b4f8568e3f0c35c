using KernelDsl.Generator.Model;
using KernelDsl.Generator.Parsing;

namespace KernelDsl.Generator.Planning;

/// <summary>
/// Every decision about one GEMM kernel, for both back ends. Emitters print this and decide nothing.
/// </summary>
/// <param name="Kernel">Where the generated members go.</param>
/// <param name="EntryPoint">The CUDA <c>extern "C"</c> function name.</param>
/// <param name="Operands">Element types and transposes.</param>
/// <param name="Epilogue">Bias and activation.</param>
/// <param name="Cuda">Thread-block tiling of the CUDA kernel.</param>
/// <param name="Cpu">Register and cache blocking of the CPU fallback, one per instruction set, widest first.</param>
internal sealed record GemmPlan(
    KernelIdentity Kernel,
    string EntryPoint,
    GemmOperands Operands,
    EpilogueSpec Epilogue,
    CudaGemmPlan Cuda,
    EquatableArray<CpuBlocking> Cpu);
