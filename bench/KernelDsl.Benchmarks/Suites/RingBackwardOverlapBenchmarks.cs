using System;
using System.Collections.Generic;
using System.Linq;
using BenchmarkDotNet.Attributes;
using KernelDsl.Ring;

namespace KernelDsl.Benchmarks;

/// <summary>
/// Overlap of the backward pass's exchanges (the next K/V and the previous shard's dK/dV accumulator, in one transfer)
/// with compute: the setting of <see cref="RingOverlapBenchmarks"/> for <c>Backward</c>, two buffers against one,
/// against the same steps (<c>BackwardStep</c> over every shard, read from memory) with no exchange. Compute alone / ring
/// is the overlap efficiency.
/// </summary>
[Suite("Ring backward overlap", "The backward pass of the ring overlap suite's ring (4 in-process ranks on 2 cores, bf16, d = 128, 4 heads, causal zigzag, S = 4096); emulated link at the bandwidth that makes one step's transfer (K/V in bf16 and the fp32 dK/dV accumulator) take half a step of compute; ratio = compute alone / ring.")]
public class RingBackwardOverlapBenchmarks
{
    private const int Seed = 11;

    private delegate void BackwardFunction(IRingCommunicator ring, int heads, int kvHeads, int sequenceLength,
        ReadOnlySpan<BFloat16> q, ReadOnlySpan<BFloat16> k, ReadOnlySpan<BFloat16> v, ReadOnlySpan<BFloat16> o, ReadOnlySpan<float> lse, ReadOnlySpan<BFloat16> dO,
        Span<BFloat16> dQ, Span<BFloat16> dK, Span<BFloat16> dV);

    private BFloat16[][] _q = [], _k = [], _v = [], _o = [], _dO = [], _dQ = [], _dK = [], _dV = [];
    private float[][] _lse = [];
    private double _linkBytesPerSecond;

    /// <summary>One case in either mode.</summary>
    public static IEnumerable<RingShape> Shapes => [new(4, 4096, 4, Backward: true)];

    /// <summary>The case being measured.</summary>
    [ParamsSource(nameof(Shapes))]
    public RingShape Shape { get; set; } = new(1, 1, 1, Backward: true);

    /// <summary>Random shards and dO, O and L from the forward ring; the link from the median of 3 compute-only runs; both rings must give compute alone's dQ.</summary>
    [GlobalSetup]
    public void Setup()
    {
        BenchData.EqualFooting();
        int ranks = Shape.Ranks;
        var shards = Enumerable.Range(0, ranks).Select(rank => RingDoubleBuffered.Shard(Shape.SequenceLength, ranks, rank)).ToArray();
        BFloat16[][] Tensors(int offset) => [.. shards.Select((shard, rank) => BenchData.UniformBFloat16(Shape.Heads * shard.LocalLength * RingShape.HeadDim, Seed + 4 * rank + offset))];
        _q = Tensors(0);
        _k = Tensors(1);
        _v = Tensors(2);
        _dO = Tensors(3);
        _o = [.. shards.Select(shard => new BFloat16[Shape.Heads * shard.LocalLength * RingShape.HeadDim])];
        _dQ = [.. _o.Select(o => new BFloat16[o.Length])];
        _dK = [.. _o.Select(o => new BFloat16[o.Length])];
        _dV = [.. _o.Select(o => new BFloat16[o.Length])];
        _lse = [.. shards.Select(shard => new float[Shape.Heads * shard.LocalLength])];
        InProcessRing.RunRanks(InProcessRing.Create(ranks), ring => RingDoubleBuffered.Forward(ring, Shape.Heads, Shape.Heads, Shape.SequenceLength,
            _q[ring.Rank], _k[ring.Rank], _v[ring.Rank], _o[ring.Rank], _lse[ring.Rank]));

        var computeTimes = Enumerable.Range(0, 3).Select(_ => BenchData.Time(ComputeOnly)).Order().ToArray();
        // A step moves K and V in bf16 and the fp32 dK, dV of the longest shard, in half a step.
        long transferBytes = 2L * Shape.Heads * shards.Max(shard => shard.LocalLength) * RingShape.HeadDim * (2 + 4);
        var linkDelay = computeTimes[1] / ranks / 2;
        _linkBytesPerSecond = transferBytes / linkDelay.TotalSeconds;
        var alone = _dQ.Select(dQ => dQ.ToArray()).ToArray();
        foreach (var ring in new Action[] { DoubleBuffered, SingleBuffered })
        {
            ring();
            for (int rank = 0; rank < ranks; rank++)
            {
                if (!_dQ[rank].AsSpan().SequenceEqual(alone[rank]))
                {
                    throw new InvalidOperationException($"Ring dQ of rank {rank} differs from the same steps computed alone.");
                }
            }
        }
        Console.WriteLine($"// Ring backward suite: emulated link {_linkBytesPerSecond / 1e9:F3} GB/s, {linkDelay.TotalMilliseconds:F1} ms per transfer ({computeTimes[1].TotalMilliseconds:F1} ms per backward alone).");
    }

    /// <summary>Each rank steps through all shards in ring order, read from memory, into accumulators of its own.</summary>
    [Benchmark(Baseline = true), BenchmarkCategory(Role.Peer)]
    public void ComputeOnly() => InProcessRing.RunRanks(InProcessRing.Create(Shape.Ranks), communicator =>
    {
        int rank = communicator.Rank, ranks = Shape.Ranks;
        var delta = new float[_lse[rank].Length];
        RingDoubleBuffered.BackwardDelta(_o[rank], _dO[rank], delta);
        var dQ = new float[_q[rank].Length];
        for (int step = 0; step < ranks; step++)
        {
            int source = (rank - step + ranks) % ranks;
            RingDoubleBuffered.BackwardStep(Shape.Heads, Shape.Heads, Shape.SequenceLength, ranks, rank, source,
                _q[rank], _k[source], _v[source], _dO[rank], _lse[rank], delta, dQ, new float[_k[source].Length], new float[_v[source].Length]);
        }
        RingDoubleBuffered.FinalizeGradient(dQ, _dQ[rank]);
    });

    /// <summary>The backward ring with <c>Overlap(Buffers = 2)</c>.</summary>
    [Benchmark, BenchmarkCategory(Role.Ours)]
    public void DoubleBuffered() => Ring(RingDoubleBuffered.Backward);

    /// <summary>The backward ring with <c>Overlap(Buffers = 1)</c>.</summary>
    [Benchmark, BenchmarkCategory(Role.Ours)]
    public void SingleBuffered() => Ring(RingSingleBuffered.Backward);

    private void Ring(BackwardFunction backward) =>
        InProcessRing.RunRanks(InProcessRing.Create(Shape.Ranks, TimeSpan.FromMinutes(2), _linkBytesPerSecond), communicator =>
        {
            int rank = communicator.Rank;
            backward(communicator, Shape.Heads, Shape.Heads, Shape.SequenceLength, _q[rank], _k[rank], _v[rank], _o[rank], _lse[rank], _dO[rank],
                _dQ[rank], _dK[rank], _dV[rank]);
        });
}
