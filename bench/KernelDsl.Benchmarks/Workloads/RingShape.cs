namespace KernelDsl.Benchmarks;

/// <summary>
/// A ring of <see cref="Ranks"/> in-process ranks computing causal bf16 attention over <see cref="SequenceLength"/>
/// tokens (zigzag layout), <see cref="Heads"/> heads of d = 128: the forward pass, or with <see cref="Backward"/> the
/// backward pass.
/// </summary>
public sealed record RingShape(int Ranks, int SequenceLength, int Heads, bool Backward = false) : IWorkload
{
    /// <summary>Head dimension of the suite's kernels.</summary>
    public const int HeadDim = 128;

    /// <summary>4·S²·d per head, halved by the causal mask; 2.5 times that for the backward pass.</summary>
    public double Flops => 4.0 * SequenceLength * SequenceLength * HeadDim * Heads / 2 * (Backward ? 2.5 : 1);

    /// <summary>Overlap efficiency (compute alone / ring) of 0.95 for the double-buffered ring.</summary>
    public double? Target(string ours, string peer) => ours == nameof(RingOverlapBenchmarks.DoubleBuffered) ? 0.95 : null;

    /// <summary>By ranks, then sequence length.</summary>
    public int CompareTo(object? other) => other is RingShape shape ? (Ranks, SequenceLength).CompareTo((shape.Ranks, shape.SequenceLength)) : 1;

    /// <inheritdoc />
    public override string ToString() => $"{Ranks} ranks S={SequenceLength / 1024}k{(Backward ? " backward" : "")}";
}
