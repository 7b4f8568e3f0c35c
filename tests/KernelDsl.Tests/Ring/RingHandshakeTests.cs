using System;
using System.Diagnostics;
using System.Linq;
using KernelDsl.Ring;
using Xunit;

namespace KernelDsl.Tests.Ring;

/// <summary>
/// The description handshake that opens <see cref="RingAttentionDriver.Forward"/>: ranks given different
/// options or element types stop before the first K/V exchange, each with an exception naming the field.
/// </summary>
public sealed class RingHandshakeTests
{
    private const int Ranks = 4;
    private const int OddRank = 2;

    private static readonly RingAttentionOptions Agreed = new()
    {
        Heads = 4,
        KvHeads = 2,
        HeadDim = 16,
        SequenceLength = 64,
        Layout = RingLayout.Zigzag,
        Causal = true,
    };

    public static TheoryData<string, RingAttentionOptions> Differences => new()
    {
        { "HeadDim", Agreed with { HeadDim = 32, Scale = 0.25f } },
        { "Heads", Agreed with { Heads = 2 } },
        { "KvHeads", Agreed with { KvHeads = 4 } },
        { "SequenceLength", Agreed with { SequenceLength = 72 } },
        { "Layout", Agreed with { Layout = RingLayout.Striped } },
        { "Causal", Agreed with { Causal = false } },
        { "Scale", Agreed with { Scale = 0.5f } },
    };

    [Theory]
    [MemberData(nameof(Differences))]
    public void ARankWithOtherOptionsStopsEveryRankBeforeTheFirstExchange(string field, RingAttentionOptions odd)
    {
        var failures = Run(rank => rank == OddRank ? Forward<ReferenceBlockKernel, float>(odd) : Forward<ReferenceBlockKernel, float>(Agreed));
        AssertReported(failures, field);
    }

    [Fact]
    public void ARankWithAnotherElementTypeStopsEveryRank()
    {
        var failures = Run(rank => rank == OddRank ? Forward<HalfReferenceKernel, Half>(Agreed) : Forward<ReferenceBlockKernel, float>(Agreed));
        var found = AssertReported(failures, "Element");
        Assert.All(found, failure => Assert.Contains(
            failure.Rank == OddRank ? "System.Single (4 bytes) on rank 1, System.Half (2 bytes) on rank 2" : "System.Half (2 bytes) on rank 2, System.Single (4 bytes) on rank 3",
            failure.Message,
            StringComparison.Ordinal));
    }

    [Fact]
    public void AHeaderFromAnotherProgramIsRejected()
    {
        var ring = InProcessRing.Create(2);
        byte[] mine = RingHandshake.Describe<float>(ring[1], Agreed);
        byte[] garbage = Enumerable.Range(0, RingHandshake.Bytes).Select(i => (byte)i).ToArray();
        var mismatch = RingHandshake.Compare(ring[1], mine, garbage);
        Assert.NotNull(mismatch);
        Assert.Equal(["Header"], mismatch.Fields);
        Assert.Null(RingHandshake.Compare(ring[1], mine, RingHandshake.Describe<float>(ring[0], Agreed)));
    }

    [Fact]
    public void AHeaderFromTheWrongNeighbourIsRejected()
    {
        var ring = InProcessRing.Create(3);
        var mismatch = RingHandshake.Compare(ring[1], RingHandshake.Describe<float>(ring[1], Agreed), RingHandshake.Describe<float>(ring[2], Agreed));
        Assert.NotNull(mismatch);
        Assert.Equal(["Neighbour"], mismatch.Fields);
    }

    /// <summary>
    /// Every rank failed promptly (no timeout involved) with the field in its message. The odd rank and the one
    /// after it each receive a header unlike their own; the first of them to read it fails the ring, so the
    /// others (possibly the second of them too) throw <see cref="RingCommunicationException"/> carrying its finding.
    /// </summary>
    private static RingConfigurationException[] AssertReported(Exception?[] failures, string field)
    {
        Assert.All(failures, failure => Assert.Contains(field, Assert.IsAssignableFrom<Exception>(failure).Message, StringComparison.Ordinal));
        var found = failures.OfType<RingConfigurationException>().ToArray();
        Assert.NotEmpty(found);
        Assert.All(found, failure =>
        {
            Assert.Contains(failure.Rank, new[] { OddRank, OddRank + 1 });
            Assert.Equal(failure.Rank - 1, failure.OtherRank);
            Assert.Contains(field, failure.Fields);
        });
        Assert.All(failures.OfType<RingCommunicationException>(), failure => Assert.IsType<RingConfigurationException>(failure.InnerException));
        return found;
    }

    /// <summary>Runs every rank's body on its own thread; returns what each threw (null if it returned).</summary>
    private static Exception?[] Run(Func<int, Action<IRingCommunicator>> body)
    {
        // A generous timeout: the test passes only if the difference, not a timeout, stopped the ranks.
        var ring = InProcessRing.Create(Ranks, TimeSpan.FromSeconds(30));
        var failures = new Exception?[Ranks];
        var clock = Stopwatch.StartNew();
        var aggregate = Assert.Throws<AggregateException>(() => InProcessRing.RunRanks(ring, communicator => body(communicator.Rank)(communicator)));
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"the ranks took {clock.Elapsed.TotalSeconds:F1} s to stop");
        foreach (var failure in aggregate.InnerExceptions)
        {
            int rank = failure switch
            {
                RingConfigurationException configuration => configuration.Rank,
                RingCommunicationException communication => communication.Rank,
                _ => throw new Xunit.Sdk.XunitException($"unexpected failure: {failure}"),
            };
            failures[rank] = failure;
        }
        Assert.All(failures, Assert.NotNull);
        return failures;
    }

    /// <summary>A rank's forward pass over inputs shaped by <paramref name="options"/>.</summary>
    private static Action<IRingCommunicator> Forward<TKernel, TElement>(RingAttentionOptions options)
        where TKernel : IAttentionBlockKernel<TElement>
        where TElement : unmanaged => communicator =>
    {
        int rows = SequenceShard.For(options.Layout, options.SequenceLength, communicator.Size, communicator.Rank).LocalLength;
        int kvHeads = options.KvHeads ?? options.Heads;
        var q = new TElement[options.Heads * rows * options.HeadDim];
        var kv = new TElement[kvHeads * rows * options.HeadDim];
        RingAttentionDriver.Forward<TKernel, TElement>(communicator, options, q, kv, kv, new TElement[q.Length], new float[options.Heads * rows]);
    };
}
