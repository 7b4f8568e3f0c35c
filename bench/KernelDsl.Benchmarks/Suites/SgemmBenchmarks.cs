using System.Collections.Generic;
using BenchmarkDotNet.Attributes;

namespace KernelDsl.Benchmarks;

/// <summary>
/// fp32 GEMM C = A·B (row-major, no transposes, α = 1, β = 0): the CPU fallback of <see cref="BenchSgemm"/> against
/// OpenBLAS's <c>cblas_sgemm</c> on 2 threads, same inputs: square n = 256 … 4096 and the two skinny shapes of
/// issue #6 (a tall A times a narrow B, and a short A times a wide B).
/// </summary>
[Suite("SGEMM", "fp32 C = A·B, row-major, no transposes, α = 1, β = 0; OpenBLAS `cblas_sgemm` and ours on 2 threads; case m×n×k.")]
public class SgemmBenchmarks
{
    private float[] _a = [];
    private float[] _b = [];
    private float[] _c = [];

    /// <summary>The cases of the mode <see cref="BenchMode.Quick"/> selects.</summary>
    public static IEnumerable<GemmShape> Shapes => BenchMode.Quick
        ? [GemmShape.Square(1024), new(4096, 128, 4096)]
        : [GemmShape.Square(256), GemmShape.Square(512), GemmShape.Square(1024), GemmShape.Square(2048), GemmShape.Square(4096),
           new(4096, 128, 4096), new(128, 4096, 4096)];

    /// <summary>The case being measured.</summary>
    [ParamsSource(nameof(Shapes))]
    public GemmShape Shape { get; set; } = GemmShape.Square(1);

    /// <summary>Random inputs; both sides run once and must agree to 1e-5.</summary>
    [GlobalSetup]
    public void Setup()
    {
        BenchData.EqualFooting();
        _a = BenchData.Uniform(Shape.M * Shape.K, 1);
        _b = BenchData.Uniform(Shape.K * Shape.N, 2);
        _c = new float[Shape.M * Shape.N];
        OpenBlasNative.SetNumThreads(2);
        OpenBlas();
        float[] peer = (float[])_c.Clone();
        KernelDsl();
        BenchData.Agree($"SGEMM {Shape}", _c, peer, 1e-5);
    }

    /// <summary>The peer: <c>cblas_sgemm</c>, row-major, no transposes.</summary>
    [Benchmark(Baseline = true), BenchmarkCategory(Role.Peer)]
    public void OpenBlas() => OpenBlasNative.Multiply(Shape, _a, _b, _c);

    /// <summary>The generated CPU fallback (widest accelerated vectors, every core).</summary>
    [Benchmark, BenchmarkCategory(Role.Ours)]
    public void KernelDsl() => BenchSgemm.Run(_a, _b, _c, Shape.M, Shape.N, Shape.K);
}
