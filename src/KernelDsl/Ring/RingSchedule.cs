using System;

namespace KernelDsl.Ring;

/// <summary>
/// One rank's ring schedule: K/V shards travel rank → rank + 1, so at step s (0 ≤ s &lt; P) rank r holds
/// the shard that started on rank (r − s) mod P; step 0 is its own. Also the visibility of every
/// (query segment, key segment) pair of every step, from which a kernel skips or masks blocks.
/// </summary>
public sealed class RingSchedule
{
    private readonly SequenceShard[] keyShards;

    /// <summary>Creates the schedule of <paramref name="rank"/>.</summary>
    /// <param name="layout">How the sequence is split.</param>
    /// <param name="sequenceLength">Global sequence length S (≥ 0).</param>
    /// <param name="ranks">Number of ranks P (≥ 1).</param>
    /// <param name="rank">This rank, 0 ≤ rank &lt; P.</param>
    /// <param name="causal">Whether the mask is causal.</param>
    /// <exception cref="ArgumentOutOfRangeException">A count or the rank is out of range.</exception>
    public RingSchedule(RingLayout layout, int sequenceLength, int ranks, int rank, bool causal)
    {
        QueryShard = SequenceShard.For(layout, sequenceLength, ranks, rank);
        Causal = causal;
        keyShards = new SequenceShard[ranks];
        for (int step = 0; step < ranks; step++)
        {
            keyShards[step] = SequenceShard.For(layout, sequenceLength, ranks, SourceRank(rank, ranks, step));
        }
    }

    /// <summary>This rank's query shard (also the key shard of step 0).</summary>
    public SequenceShard QueryShard { get; }

    /// <summary>This rank.</summary>
    public int Rank => QueryShard.Rank;

    /// <summary>Number of ranks P, which is also the number of steps.</summary>
    public int Ranks => QueryShard.Ranks;

    /// <summary>Whether the mask is causal.</summary>
    public bool Causal { get; }

    /// <summary>The rank whose K/V shard <paramref name="rank"/> holds at <paramref name="step"/>: (rank − step) mod P.</summary>
    /// <param name="rank">The computing rank, 0 ≤ rank &lt; P.</param>
    /// <param name="ranks">Number of ranks P (≥ 1).</param>
    /// <param name="step">The step, 0 ≤ step &lt; P.</param>
    /// <returns>The source rank.</returns>
    /// <exception cref="ArgumentOutOfRangeException">An argument is out of range.</exception>
    public static int SourceRank(int rank, int ranks, int step)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(ranks, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(rank);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(rank, ranks);
        ArgumentOutOfRangeException.ThrowIfNegative(step);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(step, ranks);
        return (rank - step + ranks) % ranks;
    }

    /// <summary>The source rank of <paramref name="step"/> for this rank.</summary>
    /// <param name="step">The step, 0 ≤ step &lt; P.</param>
    /// <returns>(<see cref="Rank"/> − step) mod P.</returns>
    public int SourceOf(int step) => KeyShard(step).Rank;

    /// <summary>The K/V shard this rank attends to at <paramref name="step"/>.</summary>
    /// <param name="step">The step, 0 ≤ step &lt; P.</param>
    /// <returns>The shard of <see cref="SourceOf"/>(step).</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="step"/> is out of range.</exception>
    public SequenceShard KeyShard(int step)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(step);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(step, keyShards.Length);
        return keyShards[step];
    }

    /// <summary>Visibility of query segment <paramref name="querySegment"/> against key segment <paramref name="keySegment"/> at <paramref name="step"/>.</summary>
    /// <param name="step">The step, 0 ≤ step &lt; P.</param>
    /// <param name="querySegment">Index into <see cref="SequenceShard.Segments"/> of <see cref="QueryShard"/>.</param>
    /// <param name="keySegment">Index into <see cref="SequenceShard.Segments"/> of <see cref="KeyShard"/>(step).</param>
    /// <returns>Full, Partial or None (see <see cref="RingMask"/>).</returns>
    /// <exception cref="ArgumentOutOfRangeException">An index is out of range.</exception>
    public BlockVisibility Visibility(int step, int querySegment, int keySegment)
    {
        var keySegments = KeyShard(step).Segments;
        ArgumentOutOfRangeException.ThrowIfNegative(querySegment);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(querySegment, QueryShard.Segments.Length);
        ArgumentOutOfRangeException.ThrowIfNegative(keySegment);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(keySegment, keySegments.Length);
        return RingMask.Visibility(QueryShard.Segments[querySegment], keySegments[keySegment], Causal);
    }

    /// <summary>Whether any query of this rank sees any key of <paramref name="step"/>; a step without one needs no compute.</summary>
    /// <param name="step">The step, 0 ≤ step &lt; P.</param>
    /// <returns>True when some segment pair is not <see cref="BlockVisibility.None"/>.</returns>
    public bool HasVisibleKeys(int step) => HasVisibleKeys(QueryShard, KeyShard(step), Causal);

    /// <summary>Whether any query of <paramref name="queryShard"/> sees any key of <paramref name="keyShard"/>.</summary>
    internal static bool HasVisibleKeys(SequenceShard queryShard, SequenceShard keyShard, bool causal)
    {
        foreach (var query in queryShard.Segments)
        {
            foreach (var key in keyShard.Segments)
            {
                if (RingMask.Visibility(query, key, causal) != BlockVisibility.None)
                {
                    return true;
                }
            }
        }
        return false;
    }
}
