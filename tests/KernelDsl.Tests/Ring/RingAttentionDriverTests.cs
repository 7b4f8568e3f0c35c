using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using System.Threading;
using KernelDsl.Ring;
using Xunit;
using Xunit.Abstractions;

namespace KernelDsl.Tests.Ring;

/// <summary>
/// The ring driver with the reference block kernel: P ranks reproduce single-device float64 attention
/// over the whole sequence, for every P, every layout (causal) and non-causal, uneven S, d = 64 and 128,
/// GQA and one buffer; plus fully masked rows, logits of ±1e4, fp16 operands and argument checks.
/// </summary>
public sealed class RingAttentionDriverTests(ITestOutputHelper output)
{
    private const double Tolerance = 1e-5;

    /// <summary>A representative subset of P × mask/layout × S × d: each value of each axis appears, and GQA (4/2) at every P ≥ 2.</summary>
    public static IEnumerable<object[]> Cases()
    {
        RingCase[] cases =
        [
            new(1, 67, 64, false, RingLayout.Contiguous),
            new(1, 67, 128, true, RingLayout.Zigzag),
            new(2, 128, 64, true, RingLayout.Zigzag),
            new(2, 67, 64, true, RingLayout.Striped) { Heads = 4, KvHeads = 2 },
            new(2, 203, 128, false, RingLayout.Striped),
            new(3, 203, 64, true, RingLayout.Contiguous),
            new(3, 67, 128, true, RingLayout.Zigzag) { Heads = 4, KvHeads = 2 },
            new(3, 128, 64, false, RingLayout.Zigzag),
            new(4, 203, 64, true, RingLayout.Striped) { Heads = 4, KvHeads = 2 },
            new(4, 203, 128, true, RingLayout.Zigzag) { Heads = 4, KvHeads = 2 },
            new(4, 67, 64, false, RingLayout.Contiguous) { Heads = 4, KvHeads = 2 },
            new(4, 128, 64, true, RingLayout.Contiguous) { Buffers = 1 },
            new(8, 203, 64, true, RingLayout.Zigzag),
            new(8, 128, 64, true, RingLayout.Striped) { Heads = 4, KvHeads = 2 },
            new(8, 67, 128, true, RingLayout.Contiguous),
            new(8, 203, 64, false, RingLayout.Striped) { Buffers = 1 },
            // S < P and S < 2P: ranks and zigzag chunks with no tokens still take part in the ring.
            new(8, 5, 64, true, RingLayout.Contiguous),
            new(8, 13, 64, true, RingLayout.Zigzag),
        ];
        return cases.Select(ringCase => new object[] { ringCase });
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void RingReproducesFullAttention(object ringCase)
    {
        var check = (RingCase)ringCase;
        output.WriteLine(check.ToString());
        var result = check.Run<ReferenceBlockKernel>();
        output.WriteLine($"O error {result.ErrorO:E2}, L error {result.ErrorLse:E2}; rank 0 {result.Timings[0]}");
        Assert.True(result.ErrorO <= Tolerance, $"{check}: O relative error {result.ErrorO:E3} > {Tolerance:E0}");
        Assert.True(result.ErrorLse <= Tolerance, $"{check}: L relative error {result.ErrorLse:E3} > {Tolerance:E0}");
        Assert.All(result.Timings, timings => Assert.Equal(check.Ranks, timings.Steps.Count));
    }

    [Fact]
    public void LogitsOfTenThousandStayFinite()
    {
        // q × 3e4 gives logits with a standard deviation of about 1e4.
        var check = new RingCase(4, 67, 64, true, RingLayout.Zigzag) { InputScale = 3e4f };
        output.WriteLine(check.ToString());
        var result = check.Run<ReferenceBlockKernel>();
        output.WriteLine($"O error {result.ErrorO:E2}, L error {result.ErrorLse:E2}");
        // Every value finite is checked by Run; an fp32 logit of 1e4 carries an absolute error near 1e-3,
        // so O is held to a looser bound than at ordinary scales.
        Assert.True(result.ErrorO <= 1e-3, $"{check}: O relative error {result.ErrorO:E3}");
        Assert.True(result.ErrorLse <= Tolerance, $"{check}: L relative error {result.ErrorLse:E3}");
    }

    [Fact]
    public void HalfOperandsTravelAndComputeCorrectly()
    {
        var check = new RingCase(3, 67, 64, true, RingLayout.Zigzag) { Heads = 4, KvHeads = 2 };
        output.WriteLine(check + " (F16)");
        var result = check.Run<HalfReferenceKernel, Half>(value => (Half)value, value => (float)value);
        output.WriteLine($"O error {result.ErrorO:E2}, L error {result.ErrorLse:E2}");
        // Inputs are exact in fp16 and fp32 compute adds ~1e-7: what is left is rounding O to fp16 (2^-11 relative).
        Assert.True(result.ErrorO <= 1e-3, $"{check}: O relative error {result.ErrorO:E3}");
        Assert.True(result.ErrorLse <= Tolerance, $"{check}: L relative error {result.ErrorLse:E3}");
    }

    [Fact]
    public void KeysEntirelyInTheFutureLeaveRowsFullyMasked()
    {
        // Contiguous, 2 ranks: every key of rank 1 lies after every query of rank 0.
        var options = Options(RingLayout.Contiguous, sequenceLength: 40, heads: 2, kvHeads: 1, headDim: 16);
        var (o, lse) = StepOnce(options, ranks: 2, rank: 0, sourceRank: 1);
        Assert.All(lse, value => Assert.Equal(float.NegativeInfinity, value));
        Assert.All(o, value => Assert.Equal(0f, value));
    }

    [Fact]
    public void RowsWithNoVisibleKeyInAPartialBlockAreMaskedExactly()
    {
        // Striped, 4 ranks, rank 0 vs keys of rank 1: query i (position 4i) sees keys j < i only, so row 0 sees none.
        var options = Options(RingLayout.Striped, sequenceLength: 37, heads: 2, kvHeads: 2, headDim: 16);
        var (o, lse) = StepOnce(options, ranks: 4, rank: 0, sourceRank: 1);
        int rows = SequenceShard.For(RingLayout.Striped, 37, 4, 0).LocalLength;
        for (int head = 0; head < 2; head++)
        {
            Assert.Equal(float.NegativeInfinity, lse[head * rows]);
            Assert.All(o.AsSpan(head * rows * 16, 16).ToArray(), value => Assert.Equal(0f, value));
            for (int i = 1; i < rows; i++)
            {
                Assert.True(float.IsFinite(lse[head * rows + i]), $"head {head} row {i}: L = {lse[head * rows + i]}");
            }
        }
        Assert.All(o, value => Assert.True(float.IsFinite(value)));

        // Zigzag, 3 ranks, rank 0 vs rank 1 (src > r): the first query chunk sees nothing, the second everything.
        options = Options(RingLayout.Zigzag, sequenceLength: 61, heads: 1, kvHeads: 1, headDim: 16);
        (o, lse) = StepOnce(options, ranks: 3, rank: 0, sourceRank: 1);
        var shard = SequenceShard.For(RingLayout.Zigzag, 61, 3, 0);
        int first = shard.Segments[0].Length;
        Assert.All(lse.Take(first), value => Assert.Equal(float.NegativeInfinity, value));
        Assert.All(lse.Skip(first), value => Assert.True(float.IsFinite(value)));
        Assert.All(o.Take(first * 16), value => Assert.Equal(0f, value));
        Assert.All(o, value => Assert.True(float.IsFinite(value)));
    }

    [Fact]
    public void AKernelFailureOnOneRankStopsTheOthersWithoutHelp()
    {
        // Plain threads, not RunRanks: Forward itself must fail the ring, or ranks 0, 2 and 3 would wait 20 s.
        const int ranks = 4;
        var options = Options(RingLayout.Zigzag, sequenceLength: 64, heads: 2, kvHeads: 2, headDim: 16);
        var ring = InProcessRing.Create(ranks, TimeSpan.FromSeconds(20));
        var failures = new Exception?[ranks];
        var started = Stopwatch.GetTimestamp();
        var threads = ring.Select(communicator => new Thread(() =>
        {
            int rows = SequenceShard.For(options.Layout, options.SequenceLength, ranks, communicator.Rank).LocalLength;
            var data = new float[2 * rows * 16];
            Array.Fill(data, 0.5f);
            try
            {
                RingAttentionDriver.Forward<FailingBlockKernel, float>(communicator, options, data, data, data, new float[data.Length], new float[2 * rows]);
            }
            catch (Exception exception)
            {
                failures[communicator.Rank] = exception;
            }
        })).ToArray();
        Array.ForEach(threads, thread => thread.Start());
        Array.ForEach(threads, thread => thread.Join());
        var elapsed = Stopwatch.GetElapsedTime(started);

        Assert.True(elapsed < TimeSpan.FromSeconds(5), $"took {elapsed.TotalSeconds} s: the failure did not reach the other ranks");
        var cause = Assert.IsType<InvalidOperationException>(failures[1]);
        foreach (int rank in new[] { 0, 2, 3 })
        {
            var failure = Assert.IsType<RingCommunicationException>(failures[rank]);
            Assert.Equal(rank, failure.Rank);
            Assert.Same(cause, failure.InnerException);
        }
    }

    /// <summary>
    /// Under <see cref="InProcessRing.RunRanks"/>, the failing rank's own exception comes first although
    /// <see cref="RingAttentionDriver.Forward"/> fails the ring before rethrowing it: with a slow Fail the other
    /// ranks' exceptions are surely caught before it.
    /// </summary>
    [Fact]
    public void RunRanksPutsTheKernelFailureFirstWhenTheOthersAreCaughtBeforeIt()
    {
        const int ranks = 4;
        var options = Options(RingLayout.Zigzag, sequenceLength: 64, heads: 2, kvHeads: 2, headDim: 16);
        var ring = InProcessRing.Create(ranks, TimeSpan.FromSeconds(20)).Select(inner => new SlowFailCommunicator(inner)).ToArray();
        var aggregate = Assert.Throws<AggregateException>(() => InProcessRing.RunRanks(ring, communicator =>
        {
            int rows = SequenceShard.For(options.Layout, options.SequenceLength, ranks, communicator.Rank).LocalLength;
            var data = new float[2 * rows * 16];
            Array.Fill(data, 0.5f);
            RingAttentionDriver.Forward<FailingBlockKernel, float>(communicator, options, data, data, data, new float[data.Length], new float[2 * rows]);
        }));

        Assert.Equal(ranks, aggregate.InnerExceptions.Count);
        var cause = Assert.IsType<InvalidOperationException>(aggregate.InnerExceptions[0]);
        Assert.Equal("block kernel failed on rank 1", cause.Message);
        foreach (var exception in aggregate.InnerExceptions.Skip(1))
        {
            Assert.Same(cause, Assert.IsType<RingCommunicationException>(exception).InnerException);
        }
    }

    [Fact]
    public void RejectsInconsistentArguments()
    {
        var communicator = InProcessRing.Create(1)[0];
        var options = Options(RingLayout.Contiguous, sequenceLength: 8, heads: 4, kvHeads: 2, headDim: 16);
        float[] q = new float[4 * 8 * 16], kv = new float[2 * 8 * 16], o = new float[4 * 8 * 16], lse = new float[4 * 8];

        string? Rejected(RingAttentionOptions options, int qLength, int kvLength, int oLength, int lseLength) =>
            Assert.Throws<ArgumentException>(() => RingAttentionDriver.Forward<ReferenceBlockKernel, float>(
                communicator, options, q.AsSpan(0, qLength), kv.AsSpan(0, kvLength), kv.AsSpan(0, kvLength), o.AsSpan(0, oLength), lse.AsSpan(0, lseLength))).ParamName;

        Assert.Equal("q", Rejected(options, q.Length - 1, kv.Length, o.Length, lse.Length));
        Assert.Equal("k", Rejected(options, q.Length, kv.Length - 16, o.Length, lse.Length));
        Assert.Equal("o", Rejected(options, q.Length, kv.Length, o.Length - 1, lse.Length));
        Assert.Equal("lse", Rejected(options, q.Length, kv.Length, o.Length, lse.Length - 1));
        Assert.Equal("options", Rejected(options with { KvHeads = 3 }, q.Length, kv.Length, o.Length, lse.Length));
        Assert.Equal("options", Rejected(options with { HeadDim = 0 }, q.Length, kv.Length, o.Length, lse.Length));
        Assert.Equal("options", Rejected(options with { Buffers = 3 }, q.Length, kv.Length, o.Length, lse.Length));
        Assert.Equal("options", Rejected(options with { Scale = float.NaN }, q.Length, kv.Length, o.Length, lse.Length));
        Assert.Equal("options", Rejected(options with { Heads = 0 }, q.Length, kv.Length, o.Length, lse.Length));
        Assert.Throws<ArgumentOutOfRangeException>(() => RingAttentionDriver.ForwardStep<ReferenceBlockKernel, float>(
            options, 2, 0, 2, q.AsSpan(0, 4 * 4 * 16), kv.AsSpan(0, 2 * 4 * 16), kv.AsSpan(0, 2 * 4 * 16), o.AsSpan(0, 4 * 4 * 16), lse.AsSpan(0, 4 * 4)));
        Assert.Equal("runningLse", Assert.Throws<ArgumentException>(() => RingAttentionDriver.ForwardStep<ReferenceBlockKernel, float>(
            options, 2, 0, 1, q.AsSpan(0, 4 * 4 * 16), kv.AsSpan(0, 2 * 4 * 16), kv.AsSpan(0, 2 * 4 * 16), o.AsSpan(0, 4 * 4 * 16), lse.AsSpan(0, 3))).ParamName);
    }

    private static RingAttentionOptions Options(RingLayout layout, int sequenceLength, int heads, int kvHeads, int headDim) => new()
    {
        Heads = heads,
        KvHeads = kvHeads,
        HeadDim = headDim,
        SequenceLength = sequenceLength,
        Layout = layout,
        Causal = true,
    };

    /// <summary>One <see cref="RingAttentionDriver.ForwardStep"/> from a fresh state, finalised: random Q of rank, K/V of sourceRank.</summary>
    private static (float[] O, float[] Lse) StepOnce(RingAttentionOptions options, int ranks, int rank, int sourceRank)
    {
        var random = new Random(rank * 31 + sourceRank);
        int rows = SequenceShard.For(options.Layout, options.SequenceLength, ranks, rank).LocalLength;
        int keys = SequenceShard.For(options.Layout, options.SequenceLength, ranks, sourceRank).LocalLength;
        int kvHeads = options.KvHeads ?? options.Heads;
        float[] Values(int count) => Enumerable.Range(0, count).Select(_ => random.NextSingle() * 2 - 1).ToArray();
        var q = Values(options.Heads * rows * options.HeadDim);
        var k = Values(kvHeads * keys * options.HeadDim);
        var v = Values(kvHeads * keys * options.HeadDim);
        var runningO = Values(options.Heads * rows * options.HeadDim);
        var runningLse = Values(options.Heads * rows);
        RingAttentionDriver.InitializeState(runningO, runningLse);
        RingAttentionDriver.ForwardStep<ReferenceBlockKernel, float>(options, ranks, rank, sourceRank, q, k, v, runningO, runningLse);
        var o = Enumerable.Repeat(float.NaN, runningO.Length).ToArray();
        var lse = Enumerable.Repeat(float.NaN, runningLse.Length).ToArray();
        RingAttentionDriver.Finalize<ReferenceBlockKernel, float>(runningO, runningLse, o, lse);
        return (o, lse);
    }
}
