namespace KernelDsl;

/// <summary>
/// Receives every kernel an assembly declares, each as its <c>Kernel</c> type with its element types: the generator
/// writes <c>KernelDsl.Generated.AssemblyKernels.Visit(visitor)</c> into every assembly that references KernelDsl, one
/// call per valid kernel whose type is reachable from the assembly (not private, not inside a generic type). This is
/// how runners and tests enumerate kernels without a hand-kept list and without reflection (trimming and Native AOT
/// keep every kernel the visit names).
/// </summary>
public interface IKernelVisitor
{
    /// <summary>A GEMM kernel of <typeparamref name="TInput"/> operands and <typeparamref name="TOutput"/> output.</summary>
    void Gemm<TKernel, TInput, TOutput>()
        where TKernel : IGemmKernel<TInput, TOutput>
        where TInput : unmanaged
        where TOutput : unmanaged;

    /// <summary>A ring-attention kernel of <typeparamref name="TElement"/> elements.</summary>
    void Attention<TKernel, TElement>()
        where TKernel : IAttentionKernel<TElement>
        where TElement : unmanaged;
}
