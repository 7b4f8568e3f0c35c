using System;
using System.Linq;
using KernelDsl.Ring;
using Xunit;
using Xunit.Abstractions;

namespace KernelDsl.Tests.Ring;

/// <summary>
/// Double buffering really hides the transfer: with a block that takes C per step and a link that takes
/// D per transfer, four ranks with two buffers take ≈ P·max(C, D), with one buffer ≈ P·C + (P − 1)·D.
/// Sleep-based, so the timing does not depend on the CI machine's two cores; run alone so that no other
/// test class competes for the thread pool while it is timed.
/// </summary>
[Collection(nameof(RingOverlapTests))]
[CollectionDefinition(nameof(RingOverlapTests), DisableParallelization = true)]
public sealed class RingOverlapTests(ITestOutputHelper output)
{
    private const int Ranks = 4;
    private const int SequenceLength = 32, HeadDim = 16, Heads = 2;
    private static readonly TimeSpan LinkDelay = TimeSpan.FromMilliseconds(60);

    /// <summary>One transfer, K and V of a shard (S / P rows, fp32), takes <see cref="LinkDelay"/>.</summary>
    private static readonly double LinkBytesPerSecond = 2.0 * Heads * (SequenceLength / Ranks) * HeadDim * sizeof(float) / LinkDelay.TotalSeconds;

    [Fact]
    public void TwoBuffersHideTheTransferAndOneBufferDoesNot()
    {
        var compute = SlowBlockKernel.StepTime * Ranks;
        var communication = LinkDelay * (Ranks - 1);
        var serial = compute + communication;

        var overlapped = Run(buffers: 2);
        var sequential = Run(buffers: 1);
        output.WriteLine($"compute {compute.TotalMilliseconds} ms + communication {communication.TotalMilliseconds} ms = {serial.TotalMilliseconds} ms");
        output.WriteLine($"buffers=2: slowest rank {overlapped.Max(t => t.Total).TotalMilliseconds:F1} ms; rank 0 {overlapped[0]}");
        output.WriteLine($"buffers=1: fastest rank {sequential.Min(t => t.Total).TotalMilliseconds:F1} ms; rank 0 {sequential[0]}");

        Assert.All(overlapped, timings => Assert.True(timings.Total < serial * 0.8,
            $"buffers=2 took {timings.Total.TotalMilliseconds:F1} ms, not below 0.8 × {serial.TotalMilliseconds} ms: the transfer was not hidden"));
        Assert.All(sequential, timings => Assert.True(timings.Total > serial * 0.9,
            $"buffers=1 took {timings.Total.TotalMilliseconds:F1} ms, expected about {serial.TotalMilliseconds} ms"));
        // What the timings report agrees: with overlap, little time is spent blocked on the link.
        Assert.True(overlapped.Max(t => t.Communication) < sequential.Min(t => t.Communication) * 0.5,
            $"blocked on communication: {overlapped.Max(t => t.Communication).TotalMilliseconds:F1} ms with 2 buffers, {sequential.Min(t => t.Communication).TotalMilliseconds:F1} ms with 1");
    }

    private static RingAttentionTimings[] Run(int buffers)
    {
        var options = new RingAttentionOptions
        {
            Heads = Heads,
            HeadDim = HeadDim,
            SequenceLength = SequenceLength,
            Layout = RingLayout.Striped,
            Causal = false,
            Buffers = buffers,
        };
        var timings = new RingAttentionTimings[Ranks];
        var ring = InProcessRing.Create(Ranks, TimeSpan.FromSeconds(30), LinkBytesPerSecond);
        InProcessRing.RunRanks(ring, communicator =>
        {
            int rows = SequenceShard.For(options.Layout, SequenceLength, Ranks, communicator.Rank).LocalLength;
            var random = new Random(communicator.Rank);
            float[] Values(int count) => Enumerable.Range(0, count).Select(_ => random.NextSingle() * 2 - 1).ToArray();
            var o = new float[Heads * rows * HeadDim];
            var lse = new float[Heads * rows];
            timings[communicator.Rank] = RingAttentionDriver.Forward<SlowBlockKernel, float>(
                communicator, options, Values(o.Length), Values(o.Length), Values(o.Length), o, lse);
            Assert.All(o, value => Assert.True(float.IsFinite(value)));
        });
        return timings;
    }
}
