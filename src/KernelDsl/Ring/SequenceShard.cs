using System;

namespace KernelDsl.Ring;

/// <summary>
/// The global positions one rank holds under a <see cref="RingLayout"/>: one segment (contiguous,
/// striped) or two (zigzag), in local order; empty segments are dropped, so a rank with no tokens
/// has none. Positions depend only on (layout, S, P, rank), which is why a ring exchange carries only
/// K and V bytes: the receiver rebuilds the sender's shard from the sender's rank.
/// </summary>
public sealed class SequenceShard
{
    private readonly SequenceSegment[] segments;

    private SequenceShard(RingLayout layout, int sequenceLength, int ranks, int rank, SequenceSegment[] segments)
    {
        Layout = layout;
        SequenceLength = sequenceLength;
        Ranks = ranks;
        Rank = rank;
        this.segments = segments;
        foreach (var segment in segments)
        {
            LocalLength += segment.Length;
        }
    }

    /// <summary>The layout this shard was cut with.</summary>
    public RingLayout Layout { get; }

    /// <summary>Global sequence length S.</summary>
    public int SequenceLength { get; }

    /// <summary>Number of ranks P.</summary>
    public int Ranks { get; }

    /// <summary>The rank holding this shard.</summary>
    public int Rank { get; }

    /// <summary>The segments in local order: local index 0 is the first token of the first segment.</summary>
    public ReadOnlySpan<SequenceSegment> Segments => segments;

    /// <summary>Number of tokens this rank holds (the sum of the segment lengths).</summary>
    public int LocalLength { get; }

    /// <summary>The shard of <paramref name="rank"/> when <paramref name="sequenceLength"/> tokens are split over <paramref name="ranks"/> ranks.</summary>
    /// <param name="layout">How the sequence is split.</param>
    /// <param name="sequenceLength">Global sequence length S (≥ 0).</param>
    /// <param name="ranks">Number of ranks P (≥ 1).</param>
    /// <param name="rank">The rank, 0 ≤ rank &lt; P.</param>
    /// <returns>The rank's positions.</returns>
    /// <exception cref="ArgumentOutOfRangeException">A count or the rank is out of range, or the layout is unknown.</exception>
    public static SequenceShard For(RingLayout layout, int sequenceLength, int ranks, int rank)
    {
        ValidateSplit(sequenceLength, ranks);
        ArgumentOutOfRangeException.ThrowIfNegative(rank);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(rank, ranks);
        SequenceSegment[] segments = layout switch
        {
            RingLayout.Contiguous => NonEmpty(Chunk(sequenceLength, ranks, rank)),
            // Tokens r, r + P, r + 2P, … below S: ⌈(S − r) / P⌉ of them.
            RingLayout.Striped => NonEmpty(new SequenceSegment(rank, sequenceLength > rank ? (sequenceLength - rank + ranks - 1) / ranks : 0, ranks)),
            RingLayout.Zigzag => NonEmpty(Chunk(sequenceLength, 2 * ranks, rank), Chunk(sequenceLength, 2 * ranks, 2 * ranks - 1 - rank)),
            _ => throw new ArgumentOutOfRangeException(nameof(layout), layout, "Unknown ring layout."),
        };
        return new SequenceShard(layout, sequenceLength, ranks, rank, segments);
    }

    /// <summary>
    /// The longest shard any rank holds: the row count to size exchange buffers for, since with an
    /// uneven S the shards that travel round the ring differ in length by up to 1.
    /// </summary>
    /// <param name="layout">How the sequence is split.</param>
    /// <param name="sequenceLength">Global sequence length S (≥ 0).</param>
    /// <param name="ranks">Number of ranks P (≥ 1).</param>
    /// <returns>The maximum of <see cref="LocalLength"/> over all ranks.</returns>
    /// <exception cref="ArgumentOutOfRangeException">A count is out of range, or the layout is unknown.</exception>
    public static int MaxLocalLength(RingLayout layout, int sequenceLength, int ranks)
    {
        ValidateSplit(sequenceLength, ranks);
        int longest = 0;
        for (int rank = 0; rank < ranks; rank++)
        {
            longest = Math.Max(longest, For(layout, sequenceLength, ranks, rank).LocalLength);
        }
        return longest;
    }

    /// <summary>Global position of the token at <paramref name="localIndex"/>.</summary>
    /// <param name="localIndex">0 ≤ localIndex &lt; <see cref="LocalLength"/>.</param>
    /// <returns>The token's position in the global sequence.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="localIndex"/> is out of range.</exception>
    public int GlobalPosition(int localIndex)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(localIndex);
        int index = localIndex;
        foreach (var segment in segments)
        {
            if (index < segment.Length)
            {
                return segment.Position(index);
            }
            index -= segment.Length;
        }
        throw new ArgumentOutOfRangeException(nameof(localIndex), localIndex, $"The shard holds {LocalLength} tokens.");
    }

    /// <inheritdoc/>
    public override string ToString() =>
        $"{Layout} S={SequenceLength} P={Ranks} rank {Rank}: [{string.Join(", ", segments)}]";

    private static void ValidateSplit(int sequenceLength, int ranks)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(sequenceLength);
        ArgumentOutOfRangeException.ThrowIfLessThan(ranks, 1);
    }

    /// <summary>
    /// Part <paramref name="index"/> of <paramref name="count"/> near-equal contiguous parts of [0, S):
    /// the first S mod count parts get ⌊S / count⌋ + 1 tokens, the rest ⌊S / count⌋.
    /// </summary>
    private static SequenceSegment Chunk(int sequenceLength, int count, int index)
    {
        int size = sequenceLength / count;
        int remainder = sequenceLength % count;
        int start = index * size + Math.Min(index, remainder);
        return new SequenceSegment(start, size + (index < remainder ? 1 : 0), 1);
    }

    private static SequenceSegment[] NonEmpty(params SequenceSegment[] candidates) =>
        Array.FindAll(candidates, segment => segment.Length > 0);
}
