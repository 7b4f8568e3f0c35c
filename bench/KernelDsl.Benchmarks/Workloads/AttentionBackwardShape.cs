namespace KernelDsl.Benchmarks;

/// <summary>
/// The attention backward pass over one sequence: the shape of <see cref="AttentionShape"/> (model width 512), timed for
/// dQ, dK and dV from Q, K, V, O, L and dO.
/// </summary>
public sealed record AttentionBackwardShape(int HeadDim, int SequenceLength, bool Causal) : IWorkload
{
    /// <summary>The same shape as a forward case: heads, scale, layout.</summary>
    public AttentionShape Forward => new(HeadDim, SequenceLength, Causal);

    /// <summary>2.5 × the forward's 4·S²·d per head (five S×S×d products against two), halved under the causal mask.</summary>
    public double Flops => 2.5 * Forward.Flops;

    /// <summary>Issue 14's goal: at least twice the naive OpenBLAS recompute path.</summary>
    public double? Target(string ours, string peer) => peer == AttentionBackwardBenchmarks.NaivePeer ? 2.0 : null;

    /// <summary>By sequence length, then head dimension, unmasked first.</summary>
    public int CompareTo(object? other) => other is AttentionBackwardShape shape
        ? (SequenceLength, HeadDim, Causal).CompareTo((shape.SequenceLength, shape.HeadDim, shape.Causal))
        : 1;

    /// <inheritdoc />
    public override string ToString() => Forward.ToString();
}
