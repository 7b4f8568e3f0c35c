using System;
using System.Collections.Generic;
using System.Linq;
using KernelDsl.Ring;
using Xunit;

namespace KernelDsl.Tests.Ring;

/// <summary>How each layout splits a sequence: a partition of [0, S), in increasing order per rank, with the documented shapes.</summary>
public sealed class SequenceShardTests
{
    public static IEnumerable<object[]> Splits()
    {
        foreach (var layout in Enum.GetValues<RingLayout>())
        {
            foreach (int ranks in new[] { 1, 2, 3, 4, 8 })
            {
                foreach (int length in new[] { 0, 1, 5, 13, 67, 128, 203 })
                {
                    yield return [layout, length, ranks];
                }
            }
        }
    }

    [Theory]
    [MemberData(nameof(Splits))]
    public void EveryPositionAppearsOnceInIncreasingLocalOrder(RingLayout layout, int sequenceLength, int ranks)
    {
        var seen = new int[sequenceLength];
        int longest = 0;
        for (int rank = 0; rank < ranks; rank++)
        {
            var shard = SequenceShard.For(layout, sequenceLength, ranks, rank);
            Assert.Equal((layout, sequenceLength, ranks, rank), (shard.Layout, shard.SequenceLength, shard.Ranks, shard.Rank));
            Assert.Equal(shard.LocalLength, shard.Segments.ToArray().Sum(segment => segment.Length));
            Assert.All(shard.Segments.ToArray(), segment => Assert.True(segment.Length > 0, $"{shard}: empty segment kept"));
            int previous = -1;
            for (int i = 0; i < shard.LocalLength; i++)
            {
                int position = shard.GlobalPosition(i);
                Assert.True(position > previous, $"{shard}: local {i} at {position} after {previous}");
                previous = position;
                seen[position]++;
            }
            longest = Math.Max(longest, shard.LocalLength);
            Assert.Throws<ArgumentOutOfRangeException>(() => shard.GlobalPosition(shard.LocalLength));
            Assert.Throws<ArgumentOutOfRangeException>(() => shard.GlobalPosition(-1));
        }
        Assert.All(seen, count => Assert.Equal(1, count));
        Assert.Equal(longest, SequenceShard.MaxLocalLength(layout, sequenceLength, ranks));
    }

    [Theory]
    [InlineData(67, 3)]
    [InlineData(203, 8)]
    [InlineData(5, 8)]
    [InlineData(128, 4)]
    public void ContiguousGivesConsecutiveRangesEarlierRanksLonger(int sequenceLength, int ranks)
    {
        int next = 0;
        int previousLength = int.MaxValue;
        for (int rank = 0; rank < ranks; rank++)
        {
            var shard = SequenceShard.For(RingLayout.Contiguous, sequenceLength, ranks, rank);
            Assert.InRange(shard.LocalLength, sequenceLength / ranks, sequenceLength / ranks + 1);
            Assert.True(shard.LocalLength <= previousLength, $"{shard}: longer than rank {rank - 1}");
            previousLength = shard.LocalLength;
            if (shard.LocalLength > 0)
            {
                Assert.Equal([new SequenceSegment(next, shard.LocalLength, 1)], shard.Segments.ToArray());
            }
            next += shard.LocalLength;
        }
        Assert.Equal(sequenceLength, next);
    }

    [Theory]
    [InlineData(67, 3)]
    [InlineData(203, 8)]
    [InlineData(5, 8)]
    public void StripedPutsLocalIAtIPlusRank(int sequenceLength, int ranks)
    {
        for (int rank = 0; rank < ranks; rank++)
        {
            var shard = SequenceShard.For(RingLayout.Striped, sequenceLength, ranks, rank);
            Assert.InRange(shard.LocalLength, sequenceLength / ranks, sequenceLength / ranks + 1);
            for (int i = 0; i < shard.LocalLength; i++)
            {
                Assert.Equal(i * ranks + rank, shard.GlobalPosition(i));
            }
        }
    }

    [Fact]
    public void ZigzagHoldsChunksRankAndMirror()
    {
        // 67 = 6·11 + 1 over 2P = 6 chunks: the first chunk has 12 tokens, the rest 11.
        SequenceSegment[][] expected =
        [
            [new(0, 12, 1), new(56, 11, 1)],
            [new(12, 11, 1), new(45, 11, 1)],
            [new(23, 11, 1), new(34, 11, 1)],
        ];
        for (int rank = 0; rank < 3; rank++)
        {
            Assert.Equal(expected[rank], SequenceShard.For(RingLayout.Zigzag, 67, 3, rank).Segments.ToArray());
        }
        Assert.Equal(23, SequenceShard.MaxLocalLength(RingLayout.Zigzag, 67, 3));
    }

    [Theory]
    [InlineData(203, 8)]
    [InlineData(67, 4)]
    public void ZigzagChunksDifferByAtMostOne(int sequenceLength, int ranks)
    {
        var lengths = Enumerable.Range(0, ranks)
            .SelectMany(rank => SequenceShard.For(RingLayout.Zigzag, sequenceLength, ranks, rank).Segments.ToArray())
            .Select(segment => segment.Length)
            .ToArray();
        Assert.Equal(2 * ranks, lengths.Length);
        Assert.True(lengths.Max() - lengths.Min() <= 1, string.Join(", ", lengths));
    }

    [Fact]
    public void RejectsOutOfRangeArguments()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => SequenceShard.For(RingLayout.Contiguous, 10, 0, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => SequenceShard.For(RingLayout.Contiguous, 10, 2, 2));
        Assert.Throws<ArgumentOutOfRangeException>(() => SequenceShard.For(RingLayout.Striped, -1, 2, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => SequenceShard.For((RingLayout)7, 10, 2, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => new SequenceSegment(0, 4, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => new SequenceSegment(0, 4, 1).Slice(3, 2));
    }

    [Fact]
    public void SliceIsASegmentWithTheSameStride()
    {
        var segment = new SequenceSegment(3, 10, 4);
        var slice = segment.Slice(2, 5);
        Assert.Equal(new SequenceSegment(11, 5, 4), slice);
        Assert.Equal(segment.Position(6), slice.Last);
    }
}
