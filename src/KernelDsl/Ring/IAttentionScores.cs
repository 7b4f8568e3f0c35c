namespace KernelDsl.Ring;

/// <summary>
/// What is specific to one ring-attention kernel in the CPU block kernels' S = Q·Kᵀ: its head dimension and softmax
/// scale. The KernelDsl generator emits one struct per <c>[RingAttention]</c> class; the runtime's CPU block kernels
/// take it as a type argument, so both are JIT-time constants (loop bounds, the broadcast scale). A score modifier
/// written as C# will be lowered to a member here.
/// </summary>
public interface IAttentionScores
{
    /// <summary>Head dimension d: each row of Q, K, V and O holds this many values (a multiple of 16).</summary>
    static abstract int HeadDim { get; }

    /// <summary>Softmax scale applied to q·k.</summary>
    static abstract float Scale { get; }

    /// <summary>
    /// Scale·log₂e. With it e^{Scale·s − M} = 2^{ScaleLog2·s − m} (s = q·k, m = M·log₂e). The queries are multiplied by
    /// it as a task loads them, so scores, the running max m and the exponents are all in log₂ units and each
    /// probability is one subtraction and one exp2.
    /// </summary>
    static abstract float ScaleLog2 { get; }
}
