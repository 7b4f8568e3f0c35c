using System.Collections.Generic;
using System.Globalization;
using KernelDsl.Cuda;

namespace KernelDsl.GpuRunner;

/// <summary>
/// A ring-attention kernel run as plain attention on one GPU: a ring of one rank (P = 1) is one step over the whole
/// sequence, i.e. FlashAttention-2 forward, which is what PyTorch's SDPA computes; Q, K, V are [heads][S][d].
/// </summary>
internal abstract class AttentionCase : KernelCase
{
    public override string Kind => "attention";

    public abstract AttentionInfo Info { get; }

    public override string Name => Info.Name[(Info.Name.LastIndexOf('.') + 1)..];

    public override IReadOnlyList<(string Entry, int DynamicSharedBytes)> Entries =>
        [(Info.StepEntryPoint, Info.SharedMemoryBytes), (Info.FinalizeEntryPoint, 0)];

    public override string Description => Info.ToString();

    /// <summary>The backward pass's kernels as a case of their own (compile-only), or null where the kernel has none.</summary>
    public abstract KernelCase? Backward { get; }

    /// <summary>Forward FLOPs: 4·S²·d per head (QKᵀ and PV), half of it under a causal mask.</summary>
    public double Flops(int heads, int sequence) => 4.0 * sequence * (double)sequence * Info.HeadDim * heads * (Info.Causal ? 0.5 : 1.0);

    public abstract AttentionCheck Check(CudaStream stream, int heads, int kvHeads, int sequence, int seed);

    /// <summary>
    /// The backward pass of a one-rank ring on the GPU (after its forward: delta, one step into zeroed fp32 accumulators,
    /// the gradients written in the element type), every element of dQ, dK and dV against float64 gradients.
    /// </summary>
    public abstract AttentionBackwardCheck CheckBackward(CudaStream stream, int heads, int kvHeads, int sequence, int seed);

    public abstract AttentionTiming Time(CudaStream stream, int heads, int sequence, int samples, int seed);

    /// <summary>
    /// The backward step of a one-rank ring timed at heads × S × d (FLOPs 2.5 × <see cref="Flops"/>), after one forward
    /// for O and L and one <c>LaunchBackwardDelta</c>; dV of 8 random keys spot-checked against float64 from the GPU's L.
    /// </summary>
    public abstract AttentionTiming TimeBackward(CudaStream stream, int heads, int sequence, int samples, int seed);

    public static string Shape(int heads, int sequence, int d) => string.Create(CultureInfo.InvariantCulture, $"h{heads} S{sequence} d{d}");
}
