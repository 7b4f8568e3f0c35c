using System;
using System.Collections.Generic;
using BenchmarkDotNet.Attributes;

namespace KernelDsl.Benchmarks;

/// <summary>
/// fp32 attention backward on the CPU, one sequence, model width 512: the generated <c>AttentionBackward</c> of the
/// <c>Bench*Attention*</c> kernels against the naive OpenBLAS recompute path (<see cref="NaiveAttention.Backward"/>),
/// from the same Q, K, V, dO and the forward's O and L.
/// </summary>
[Suite("AttentionBackward", "fp32 backward (dQ, dK, dV), one sequence of S tokens, model width 512 (d = 64: 8 heads, d = 128: 4 heads), scale 1/√d; the naive path (OpenBLAS, 2 threads: P recomputed, six sgemm per head) and ours on 2 threads. GFLOP/s count 2.5 × the forward's FLOPs.")]
public class AttentionBackwardBenchmarks
{
    /// <summary>The naive path's method name, for targets.</summary>
    public const string NaivePeer = nameof(NaiveOpenBlas);

    private delegate void BackwardFunction(ReadOnlySpan<float> q, ReadOnlySpan<float> k, ReadOnlySpan<float> v, ReadOnlySpan<float> o, ReadOnlySpan<float> lse,
        ReadOnlySpan<float> dO, Span<float> dQ, Span<float> dK, Span<float> dV, int heads, int kvHeads, int sequenceLength);

    private float[] _q = [], _k = [], _v = [], _o = [], _lse = [], _dO = [], _dQ = [], _dK = [], _dV = [];
    private BackwardFunction _ours = null!;
    private NaiveAttention? _naive;

    /// <summary>The cases of the mode <see cref="BenchMode.Quick"/> selects.</summary>
    public static IEnumerable<AttentionBackwardShape> Shapes => BenchMode.Quick
        ? [new(64, 1024, false), new(64, 1024, true)]
        : [new(64, 1024, false), new(64, 1024, true), new(128, 1024, false), new(128, 1024, true),
           new(64, 4096, false), new(64, 4096, true), new(128, 4096, false), new(128, 4096, true)];

    /// <summary>The case being measured.</summary>
    [ParamsSource(nameof(Shapes))]
    public AttentionBackwardShape Shape { get; set; } = new(64, 1, false);

    /// <summary>Random Q, K, V, dO; O and L from the generated forward pass; both sides run once and must agree to 1e-4.</summary>
    [GlobalSetup]
    public void Setup()
    {
        BenchData.EqualFooting();
        AttentionShape forward = Shape.Forward;
        int count = forward.Heads * forward.SequenceLength * forward.HeadDim;
        _q = BenchData.Uniform(count, 1);
        _k = BenchData.Uniform(count, 2);
        _v = BenchData.Uniform(count, 3);
        _dO = BenchData.Uniform(count, 4);
        _o = new float[count];
        _lse = new float[forward.Heads * forward.SequenceLength];
        _dQ = new float[count];
        _dK = new float[count];
        _dV = new float[count];
        (_ours, var attention) = (Shape.HeadDim, Shape.Causal) switch
        {
            (64, false) => ((BackwardFunction)BenchAttention64.AttentionBackward, (Action)(() => BenchAttention64.Attention(_q, _k, _v, _o, _lse, forward.Heads, forward.Heads, forward.SequenceLength))),
            (64, true) => (BenchCausalAttention64.AttentionBackward, () => BenchCausalAttention64.Attention(_q, _k, _v, _o, _lse, forward.Heads, forward.Heads, forward.SequenceLength)),
            (128, false) => (BenchAttention128.AttentionBackward, () => BenchAttention128.Attention(_q, _k, _v, _o, _lse, forward.Heads, forward.Heads, forward.SequenceLength)),
            (128, true) => (BenchCausalAttention128.AttentionBackward, () => BenchCausalAttention128.Attention(_q, _k, _v, _o, _lse, forward.Heads, forward.Heads, forward.SequenceLength)),
            _ => throw new NotSupportedException($"No benchmark kernel for {Shape}."),
        };
        attention();
        _naive = new NaiveAttention(forward);
        OpenBlasNative.SetNumThreads(2);

        KernelDsl();
        float[][] ours = [(float[])_dQ.Clone(), (float[])_dK.Clone(), (float[])_dV.Clone()];
        NaiveOpenBlas();
        BenchData.Agree($"attention backward {Shape} dQ vs naive", ours[0], _dQ, 1e-4);
        BenchData.Agree($"attention backward {Shape} dK vs naive", ours[1], _dK, 1e-4);
        BenchData.Agree($"attention backward {Shape} dV vs naive", ours[2], _dV, 1e-4);
    }

    /// <summary>Per head: sgemm, row softmax, then the five gradient products (sgemm) and dS in between.</summary>
    [Benchmark(Baseline = true), BenchmarkCategory(Role.Peer)]
    public void NaiveOpenBlas() => _naive!.Backward(_q, _k, _v, _dO, _dQ, _dK, _dV);

    /// <summary>The generated fused CPU backward (FlashAttention-2's blocks, P recomputed from L, every core).</summary>
    [Benchmark, BenchmarkCategory(Role.Ours)]
    public void KernelDsl() => _ours(_q, _k, _v, _o, _lse, _dO, _dQ, _dK, _dV, Shape.Forward.Heads, Shape.Forward.Heads, Shape.SequenceLength);
}
