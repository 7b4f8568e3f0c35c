using System;
using System.Collections.Generic;
using System.Linq;
using BenchmarkDotNet.Attributes;
using KernelDsl.Ring;

namespace KernelDsl.Benchmarks;

/// <summary>
/// Overlap of the K/V exchange with compute: a 4-rank in-process ring (a thread per rank) of causal bf16 zigzag
/// attention, with an emulated link whose bandwidth makes a K/V transfer take half a step's compute (measured in the setup), run
/// with two K/V buffers (<see cref="RingDoubleBuffered"/>: the next shard arrives during compute) and with one
/// (<see cref="RingSingleBuffered"/>), against the same steps with no exchange at all (every rank reads the
/// shards from memory). Compute alone / ring is the overlap efficiency.
/// </summary>
[Suite("Ring overlap", "4 in-process ranks on 2 cores, bf16, d = 128, 4 heads, causal zigzag, S = 4096 (1024 tokens per rank); emulated link at the bandwidth that makes one K/V transfer take half a step of compute; ratio = compute alone / ring, the overlap efficiency.")]
public class RingOverlapBenchmarks
{
    private const int Seed = 7;

    private delegate RingAttentionTimings ForwardFunction(IRingCommunicator ring, int heads, int kvHeads, int sequenceLength,
        ReadOnlySpan<BFloat16> q, ReadOnlySpan<BFloat16> k, ReadOnlySpan<BFloat16> v, Span<BFloat16> o, Span<float> lse, KernelDsl.Cpu.CpuIsa? isa);

    private BFloat16[][] _q = [], _k = [], _v = [], _o = [];
    private float[][] _lse = [];
    private double _linkBytesPerSecond;

    /// <summary>One case in either mode: 4 ranks, S = 4096, 4 heads.</summary>
    public static IEnumerable<RingShape> Shapes => [new(4, 4096, 4)];

    /// <summary>The case being measured.</summary>
    [ParamsSource(nameof(Shapes))]
    public RingShape Shape { get; set; } = new(1, 1, 1);

    /// <summary>Random shards; the link delay from the median of 3 compute-only runs; both rings must reproduce compute alone.</summary>
    [GlobalSetup]
    public void Setup()
    {
        BenchData.EqualFooting();
        int ranks = Shape.Ranks;
        var shards = Enumerable.Range(0, ranks).Select(rank => RingDoubleBuffered.Shard(Shape.SequenceLength, ranks, rank)).ToArray();
        _q = [.. shards.Select((shard, rank) => BenchData.UniformBFloat16(Shape.Heads * shard.LocalLength * RingShape.HeadDim, Seed + 3 * rank))];
        _k = [.. shards.Select((shard, rank) => BenchData.UniformBFloat16(Shape.Heads * shard.LocalLength * RingShape.HeadDim, Seed + 3 * rank + 1))];
        _v = [.. shards.Select((shard, rank) => BenchData.UniformBFloat16(Shape.Heads * shard.LocalLength * RingShape.HeadDim, Seed + 3 * rank + 2))];
        _o = [.. shards.Select(shard => new BFloat16[Shape.Heads * shard.LocalLength * RingShape.HeadDim])];
        _lse = [.. shards.Select(shard => new float[Shape.Heads * shard.LocalLength])];

        var computeTimes = Enumerable.Range(0, 3).Select(_ => BenchData.Time(ComputeOnly)).Order().ToArray();
        // K and V of the longest shard, bf16, in half a step: every rank computes one step per P-th of the forward.
        long transferBytes = 2L * Shape.Heads * shards.Max(shard => shard.LocalLength) * RingShape.HeadDim * 2;
        var linkDelay = computeTimes[1] / ranks / 2;
        _linkBytesPerSecond = transferBytes / linkDelay.TotalSeconds;
        var alone = _o.Select(o => o.ToArray()).ToArray();
        foreach (var ring in new Action[] { DoubleBuffered, SingleBuffered })
        {
            ring();
            for (int rank = 0; rank < ranks; rank++)
            {
                if (!_o[rank].AsSpan().SequenceEqual(alone[rank]))
                {
                    throw new InvalidOperationException($"Ring output of rank {rank} differs from the same steps computed alone.");
                }
            }
        }
        Console.WriteLine($"// Ring suite: emulated link {_linkBytesPerSecond / 1e9:F3} GB/s, {linkDelay.TotalMilliseconds:F1} ms per transfer (half a step of compute alone, {computeTimes[1].TotalMilliseconds:F1} ms per forward).");
    }

    /// <summary>Each rank steps through all shards in ring order, source (rank − step) mod P, read from memory.</summary>
    [Benchmark(Baseline = true), BenchmarkCategory(Role.Peer)]
    public void ComputeOnly() => InProcessRing.RunRanks(InProcessRing.Create(Shape.Ranks), communicator =>
    {
        int rank = communicator.Rank, ranks = Shape.Ranks;
        var runningO = new float[_o[rank].Length];
        var runningLse = new float[_lse[rank].Length];
        RingDoubleBuffered.InitializeState(runningO, runningLse);
        for (int step = 0; step < ranks; step++)
        {
            int source = (rank - step + ranks) % ranks;
            RingDoubleBuffered.ForwardStep(Shape.Heads, Shape.Heads, Shape.SequenceLength, ranks, rank, source,
                _q[rank], _k[source], _v[source], runningO, runningLse);
        }
        RingDoubleBuffered.Finalize(runningO, runningLse, _o[rank], _lse[rank]);
    });

    /// <summary>The ring with <c>Overlap(Buffers = 2)</c>.</summary>
    [Benchmark, BenchmarkCategory(Role.Ours)]
    public void DoubleBuffered() => Ring(RingDoubleBuffered.Forward);

    /// <summary>The ring with <c>Overlap(Buffers = 1)</c>.</summary>
    [Benchmark, BenchmarkCategory(Role.Ours)]
    public void SingleBuffered() => Ring(RingSingleBuffered.Forward);

    private void Ring(ForwardFunction forward) =>
        InProcessRing.RunRanks(InProcessRing.Create(Shape.Ranks, TimeSpan.FromMinutes(2), _linkBytesPerSecond), communicator =>
        {
            int rank = communicator.Rank;
            forward(communicator, Shape.Heads, Shape.Heads, Shape.SequenceLength, _q[rank], _k[rank], _v[rank], _o[rank], _lse[rank], null);
        });
}
