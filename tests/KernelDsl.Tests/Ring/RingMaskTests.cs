using System;
using System.Collections.Generic;
using KernelDsl.Ring;
using Xunit;

namespace KernelDsl.Tests.Ring;

/// <summary>
/// Visibility from positions alone: exact against brute force, and reproducing the per-layout rules of
/// ring attention (contiguous, striped, zigzag) and the schedule's source ranks.
/// </summary>
public sealed class RingMaskTests
{
    public static IEnumerable<object[]> UnevenRings()
    {
        foreach (int ranks in new[] { 2, 3, 4, 8 })
        {
            foreach (int length in new[] { 67, 128, 203 })
            {
                yield return [length, ranks];
            }
        }
    }

    [Fact]
    public void BlockVisibilityIsExactAgainstBruteForce()
    {
        var random = new Random(20240611);
        for (int trial = 0; trial < 2000; trial++)
        {
            var query = new SequenceSegment(random.Next(0, 40), random.Next(1, 8), random.Next(1, 5));
            var key = new SequenceSegment(random.Next(0, 40), random.Next(1, 8), random.Next(1, 5));
            int visible = 0;
            for (int i = 0; i < query.Length; i++)
            {
                for (int j = 0; j < key.Length; j++)
                {
                    visible += RingMask.IsVisible(query.Position(i), key.Position(j), causal: true) ? 1 : 0;
                }
            }
            var expected = visible == 0 ? BlockVisibility.None
                : visible == query.Length * key.Length ? BlockVisibility.Full
                : BlockVisibility.Partial;
            Assert.True(expected == RingMask.Visibility(query, key, causal: true), $"{query} vs {key}: {visible} visible");
            Assert.Equal(BlockVisibility.Full, RingMask.Visibility(query, key, causal: false));
        }
        Assert.Equal(BlockVisibility.None, RingMask.Visibility(new SequenceSegment(0, 0, 1), new SequenceSegment(0, 3, 1), causal: false));
    }

    [Theory]
    [MemberData(nameof(UnevenRings))]
    public void ContiguousIsDiagonalCausalEarlierFullLaterSkipped(int sequenceLength, int ranks)
    {
        for (int rank = 0; rank < ranks; rank++)
        {
            var schedule = new RingSchedule(RingLayout.Contiguous, sequenceLength, ranks, rank, causal: true);
            for (int step = 0; step < ranks; step++)
            {
                int source = schedule.SourceOf(step);
                var expected = source < rank ? BlockVisibility.Full : source > rank ? BlockVisibility.None : BlockVisibility.Partial;
                Assert.Equal(expected, schedule.Visibility(step, 0, 0));
                Assert.Equal(source <= rank, schedule.HasVisibleKeys(step));
            }
        }
    }

    [Theory]
    [MemberData(nameof(UnevenRings))]
    public void StripedIsCausalWithDiagonalUpToOwnRankAndStrictlyCausalAfter(int sequenceLength, int ranks)
    {
        for (int rank = 0; rank < ranks; rank++)
        {
            var schedule = new RingSchedule(RingLayout.Striped, sequenceLength, ranks, rank, causal: true);
            var query = schedule.QueryShard;
            for (int step = 0; step < ranks; step++)
            {
                var key = schedule.KeyShard(step);
                int source = key.Rank;
                // Both bounds overlap, so the block is masked per element, and per element the positions give the rule.
                Assert.Equal(BlockVisibility.Partial, schedule.Visibility(step, 0, 0));
                for (int i = 0; i < query.LocalLength; i++)
                {
                    for (int j = 0; j < key.LocalLength; j++)
                    {
                        bool rule = source <= rank ? j <= i : j < i;
                        if (rule != RingMask.IsVisible(query.GlobalPosition(i), key.GlobalPosition(j), causal: true))
                        {
                            Assert.Fail($"striped S={sequenceLength} P={ranks} rank {rank} source {source}: (i={i}, j={j}) should be {(rule ? "visible" : "masked")}");
                        }
                    }
                }
            }
        }
    }

    [Theory]
    [MemberData(nameof(UnevenRings))]
    public void ZigzagIsLocalCausalThenFirstKeyChunkThenSecondQueryChunk(int sequenceLength, int ranks)
    {
        const BlockVisibility N = BlockVisibility.None, P = BlockVisibility.Partial, F = BlockVisibility.Full;
        for (int rank = 0; rank < ranks; rank++)
        {
            var schedule = new RingSchedule(RingLayout.Zigzag, sequenceLength, ranks, rank, causal: true);
            for (int step = 0; step < ranks; step++)
            {
                int source = schedule.SourceOf(step);
                // [query chunk, key chunk]: chunk 0 is the early one (r or src), chunk 1 the late one.
                BlockVisibility[,] expected = source == rank ? new[,] { { P, N }, { F, P } }
                    : source < rank ? new[,] { { F, N }, { F, N } }
                    : new[,] { { N, N }, { F, F } };
                for (int querySegment = 0; querySegment < 2; querySegment++)
                {
                    for (int keySegment = 0; keySegment < 2; keySegment++)
                    {
                        Assert.True(expected[querySegment, keySegment] == schedule.Visibility(step, querySegment, keySegment),
                            $"zigzag S={sequenceLength} P={ranks} rank {rank} source {source}: (Q{querySegment}, KV{keySegment})");
                    }
                }
            }
        }
    }

    [Theory]
    [InlineData(128, 4)]
    [InlineData(64, 8)]
    public void ZigzagGivesEveryRankEqualCausalWorkPerStep(int sequenceLength, int ranks)
    {
        for (int step = 0; step < ranks; step++)
        {
            var work = new HashSet<long>();
            for (int rank = 0; rank < ranks; rank++)
            {
                var schedule = new RingSchedule(RingLayout.Zigzag, sequenceLength, ranks, rank, causal: true);
                work.Add(VisiblePairs(schedule.QueryShard, schedule.KeyShard(step)));
            }
            Assert.Single(work);
        }
    }

    [Theory]
    [InlineData(RingLayout.Contiguous)]
    [InlineData(RingLayout.Striped)]
    [InlineData(RingLayout.Zigzag)]
    public void NonCausalSeesEverything(RingLayout layout)
    {
        var schedule = new RingSchedule(layout, 67, 3, 1, causal: false);
        for (int step = 0; step < 3; step++)
        {
            for (int q = 0; q < schedule.QueryShard.Segments.Length; q++)
            {
                for (int k = 0; k < schedule.KeyShard(step).Segments.Length; k++)
                {
                    Assert.Equal(BlockVisibility.Full, schedule.Visibility(step, q, k));
                }
            }
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(8)]
    public void KeysTravelToTheNextRankEachStep(int ranks)
    {
        for (int rank = 0; rank < ranks; rank++)
        {
            Assert.Equal(rank, RingSchedule.SourceRank(rank, ranks, 0));
            for (int step = 0; step + 1 < ranks; step++)
            {
                // What rank r computes at step s, rank r + 1 computes at step s + 1: it was sent r → r + 1.
                Assert.Equal((rank - step + ranks) % ranks, RingSchedule.SourceRank(rank, ranks, step));
                Assert.Equal(RingSchedule.SourceRank(rank, ranks, step), RingSchedule.SourceRank((rank + 1) % ranks, ranks, step + 1));
            }
        }
        Assert.Throws<ArgumentOutOfRangeException>(() => RingSchedule.SourceRank(0, ranks, ranks));
        var schedule = new RingSchedule(RingLayout.Zigzag, 67, ranks, ranks - 1, causal: true);
        Assert.Throws<ArgumentOutOfRangeException>(() => schedule.Visibility(0, 2, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => schedule.KeyShard(ranks));
    }

    private static long VisiblePairs(SequenceShard query, SequenceShard key)
    {
        long visible = 0;
        for (int i = 0; i < query.LocalLength; i++)
        {
            for (int j = 0; j < key.LocalLength; j++)
            {
                visible += RingMask.IsVisible(query.GlobalPosition(i), key.GlobalPosition(j), causal: true) ? 1 : 0;
            }
        }
        return visible;
    }
}
