using System;
using System.Collections.Generic;
using BenchmarkDotNet.Attributes;
using KernelDsl.Cpu;

namespace KernelDsl.Benchmarks;

/// <summary>
/// fp32 attention forward on the CPU, one sequence, model width 512 (d = 64: 8 heads, d = 128: 4): the fused
/// CPU fallback of the <c>Bench*Attention*</c> kernels against ONNX Runtime's <c>MultiHeadAttention</c>
/// (<see cref="OnnxAttention"/>) and the naive OpenBLAS path (<see cref="NaiveAttention"/>). The peers use the
/// layout each expects (ONNX Runtime [1, S, heads·d], ours and the naive path [heads, S, d]), filled with the
/// same values before timing.
/// </summary>
[Suite("Attention", "fp32 forward, one sequence of S tokens, model width 512 (d = 64: 8 heads, d = 128: 4 heads), scale 1/√d; ONNX Runtime `MultiHeadAttention` (CPU provider, 2 intra-op threads), the naive path (OpenBLAS, 2 threads) and ours on 2 threads.")]
public class AttentionBenchmarks
{
    /// <summary>The naive path's method name, for targets.</summary>
    public const string NaivePeer = nameof(NaiveOpenBlas);

    private delegate void AttentionFunction(ReadOnlySpan<float> q, ReadOnlySpan<float> k, ReadOnlySpan<float> v, Span<float> o, Span<float> lse,
        int heads, int kvHeads, int sequenceLength, CpuIsa? isa);

    private float[] _q = [], _k = [], _v = [], _o = [], _lse = [];
    private float[] _onnxQ = [], _onnxK = [], _onnxV = [], _onnxO = [];
    private AttentionFunction _ours = null!;
    private OnnxAttention? _onnx;
    private NaiveAttention? _naive;

    /// <summary>The cases of the mode <see cref="BenchMode.Quick"/> selects.</summary>
    public static IEnumerable<AttentionShape> Shapes => BenchMode.Quick
        ? [new(128, 4096, false), new(128, 4096, true)]
        : [new(64, 1024, false), new(64, 1024, true), new(128, 1024, false), new(128, 1024, true),
           new(64, 4096, false), new(64, 4096, true), new(128, 4096, false), new(128, 4096, true)];

    /// <summary>The case being measured.</summary>
    [ParamsSource(nameof(Shapes))]
    public AttentionShape Shape { get; set; } = new(64, 1, false);

    /// <summary>Random Q, K, V; all three run once and must agree to 1e-4.</summary>
    [GlobalSetup]
    public void Setup()
    {
        BenchData.EqualFooting();
        int count = Shape.Heads * Shape.SequenceLength * Shape.HeadDim;
        _q = BenchData.Uniform(count, 1);
        _k = BenchData.Uniform(count, 2);
        _v = BenchData.Uniform(count, 3);
        _o = new float[count];
        _lse = new float[Shape.Heads * Shape.SequenceLength];
        _ours = (Shape.HeadDim, Shape.Causal) switch
        {
            (64, false) => BenchAttention64.Attention,
            (64, true) => BenchCausalAttention64.Attention,
            (128, false) => BenchAttention128.Attention,
            (128, true) => BenchCausalAttention128.Attention,
            _ => throw new NotSupportedException($"No benchmark kernel for {Shape}."),
        };
        _onnxQ = Shape.ToSequenceMajor(_q);
        _onnxK = Shape.ToSequenceMajor(_k);
        _onnxV = Shape.ToSequenceMajor(_v);
        _onnxO = new float[count];
        _onnx = new OnnxAttention(Shape, _onnxQ, _onnxK, _onnxV, _onnxO);
        _naive = new NaiveAttention(Shape);
        OpenBlasNative.SetNumThreads(2);

        KernelDsl();
        float[] ours = (float[])_o.Clone();
        NaiveOpenBlas();
        BenchData.Agree($"attention {Shape} vs naive", ours, _o, 1e-4);
        OnnxRuntime();
        BenchData.Agree($"attention {Shape} vs ONNX Runtime", Shape.ToSequenceMajor(ours), _onnxO, 1e-4);
    }

    /// <summary>Releases the ONNX Runtime session.</summary>
    [GlobalCleanup]
    public void Cleanup() => _onnx?.Dispose();

    /// <summary>ONNX Runtime 1.31, <c>com.microsoft.MultiHeadAttention</c>, CPU provider, 2 threads.</summary>
    [Benchmark(Baseline = true), BenchmarkCategory(Role.Peer)]
    public void OnnxRuntime() => _onnx!.Run();

    /// <summary>Per head: sgemm, row softmax, sgemm.</summary>
    [Benchmark, BenchmarkCategory(Role.Peer)]
    public void NaiveOpenBlas() => _naive!.Run(_q, _k, _v, _o);

    /// <summary>The generated fused CPU fallback (FlashAttention-2 blocks, every core).</summary>
    [Benchmark, BenchmarkCategory(Role.Ours)]
    public void KernelDsl() => _ours(_q, _k, _v, _o, _lse, Shape.Heads, Shape.Heads, Shape.SequenceLength, null);
}
