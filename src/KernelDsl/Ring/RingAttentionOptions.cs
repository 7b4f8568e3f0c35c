using System;

namespace KernelDsl.Ring;

/// <summary>The shape and schedule of one ring attention forward pass; the same on every rank.</summary>
public sealed record RingAttentionOptions
{
    /// <summary>Query heads (≥ 1).</summary>
    public required int Heads { get; init; }

    /// <summary>Key/value heads, dividing <see cref="Heads"/> (grouped-query attention: query head h uses K/V head h / (Heads / KvHeads)); null means <see cref="Heads"/>.</summary>
    public int? KvHeads { get; init; }

    /// <summary>Values per head row, d (≥ 1).</summary>
    public required int HeadDim { get; init; }

    /// <summary>Global sequence length S, summed over all ranks (≥ 0).</summary>
    public required int SequenceLength { get; init; }

    /// <summary>How the sequence is split over the ranks.</summary>
    public RingLayout Layout { get; init; } = RingLayout.Contiguous;

    /// <summary>Whether query i sees only keys j ≤ i (global positions).</summary>
    public bool Causal { get; init; }

    /// <summary>Softmax scale applied to q·k (finite); null means 1/√<see cref="HeadDim"/>.</summary>
    public float? Scale { get; init; }

    /// <summary>
    /// K/V buffers the schedule computes from: 2 starts the exchange of the next shard before computing
    /// the current one (double buffering, transfer hidden behind compute); 1 computes, then exchanges and
    /// waits (no overlap). The transport needs a receive buffer distinct from the send buffer either way,
    /// so both use the same memory; the setting selects the schedule, like a pipeline's stage count.
    /// </summary>
    public int Buffers { get; init; } = 2;

    /// <summary>The effective K/V head count.</summary>
    internal int ResolvedKvHeads => KvHeads ?? Heads;

    /// <summary>The effective softmax scale.</summary>
    internal float ResolvedScale => Scale ?? 1f / MathF.Sqrt(HeadDim);

    /// <summary>Throws <see cref="ArgumentException"/> (parameter <paramref name="parameterName"/>) naming the first invalid property.</summary>
    internal void Validate(string parameterName)
    {
        if (Heads < 1)
        {
            throw new ArgumentException($"{nameof(Heads)} must be at least 1, got {Heads}.", parameterName);
        }
        if (ResolvedKvHeads < 1 || Heads % ResolvedKvHeads != 0)
        {
            throw new ArgumentException($"{nameof(KvHeads)} must be at least 1 and divide {nameof(Heads)} = {Heads}, got {ResolvedKvHeads}.", parameterName);
        }
        if (HeadDim < 1)
        {
            throw new ArgumentException($"{nameof(HeadDim)} must be at least 1, got {HeadDim}.", parameterName);
        }
        if (SequenceLength < 0)
        {
            throw new ArgumentException($"{nameof(SequenceLength)} must not be negative, got {SequenceLength}.", parameterName);
        }
        if (!Enum.IsDefined(Layout))
        {
            throw new ArgumentException($"{nameof(Layout)} {Layout} is not a ring layout.", parameterName);
        }
        if (!float.IsFinite(ResolvedScale))
        {
            throw new ArgumentException($"{nameof(Scale)} must be finite, got {ResolvedScale}.", parameterName);
        }
        if (Buffers is not (1 or 2))
        {
            throw new ArgumentException($"{nameof(Buffers)} must be 1 or 2, got {Buffers}.", parameterName);
        }
    }
}
