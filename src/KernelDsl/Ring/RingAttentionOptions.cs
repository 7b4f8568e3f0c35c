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

    /// <summary>
    /// The options of an entry point that takes the shape as separate arguments named as this method's parameters,
    /// as the generated <c>Forward</c>, <c>ForwardStep</c> and <c>Attention</c> do, validated here: an invalid
    /// value is an <see cref="ArgumentException"/> naming that argument (<c>kvHeads</c>, say), not an options
    /// parameter the caller never passed.
    /// </summary>
    /// <exception cref="ArgumentException">An argument is out of range; <see cref="ArgumentException.ParamName"/> names it.</exception>
    public static RingAttentionOptions FromArguments(
        int heads, int kvHeads, int sequenceLength, int headDim, RingLayout layout, bool causal, float scale, int buffers)
    {
        var options = new RingAttentionOptions
        {
            Heads = heads,
            KvHeads = kvHeads,
            SequenceLength = sequenceLength,
            HeadDim = headDim,
            Layout = layout,
            Causal = causal,
            Scale = scale,
            Buffers = buffers,
        };
        options.Validate(parameterName: null);
        return options;
    }

    /// <summary>
    /// Throws <see cref="ArgumentException"/> naming the first invalid property: as parameter
    /// <paramref name="parameterName"/> that holds these options, or, when null, as the argument of
    /// <see cref="FromArguments"/> it came from.
    /// </summary>
    internal void Validate(string? parameterName)
    {
        void Require(bool valid, string property, string argument, string rule)
        {
            if (!valid)
            {
                throw parameterName is null
                    ? new ArgumentException($"{argument} {rule}", argument)
                    : new ArgumentException($"{property} {rule}", parameterName);
            }
        }
        string heads = parameterName is null ? "heads" : nameof(Heads);
        Require(Heads >= 1, nameof(Heads), "heads", $"must be at least 1, got {Heads}.");
        Require(ResolvedKvHeads >= 1 && Heads % ResolvedKvHeads == 0, nameof(KvHeads), "kvHeads",
            $"must be at least 1 and divide {heads} = {Heads}, got {ResolvedKvHeads}.");
        Require(HeadDim >= 1, nameof(HeadDim), "headDim", $"must be at least 1, got {HeadDim}.");
        Require(SequenceLength >= 0, nameof(SequenceLength), "sequenceLength", $"must not be negative, got {SequenceLength}.");
        Require(Enum.IsDefined(Layout), nameof(Layout), "layout", $"{Layout} is not a ring layout.");
        Require(float.IsFinite(ResolvedScale), nameof(Scale), "scale", $"must be finite, got {ResolvedScale}.");
        Require(Buffers is 1 or 2, nameof(Buffers), "buffers", $"must be 1 or 2, got {Buffers}.");
    }
}
