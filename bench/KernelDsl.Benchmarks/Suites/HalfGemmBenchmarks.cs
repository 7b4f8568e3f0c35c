using System;
using System.Collections.Generic;
using BenchmarkDotNet.Attributes;

namespace KernelDsl.Benchmarks;

/// <summary>
/// GEMM with 16-bit operands and fp32 accumulation and output: the CPU fallbacks of <see cref="BenchHgemm"/> (fp16)
/// and <see cref="BenchBgemm"/> (bf16), which widen while they pack, against OpenBLAS's <c>cblas_sgemm</c> on the
/// same values already converted to fp32 (the conversion is not timed: the peer gets its best case).
/// </summary>
[Suite("fp16 and bf16 GEMM", "C = A·B with 16-bit A and B, fp32 accumulation and C; the peer is OpenBLAS `cblas_sgemm` on the same values already widened to fp32 (not timed); 2 threads.")]
public class HalfGemmBenchmarks
{
    private Half[] _halfA = [];
    private Half[] _halfB = [];
    private BFloat16[] _bfloatA = [];
    private BFloat16[] _bfloatB = [];
    private float[] _a = [];
    private float[] _b = [];
    private float[] _c = [];

    /// <summary>The cases of the mode <see cref="BenchMode.Quick"/> selects.</summary>
    public static IEnumerable<GemmShape> Shapes => BenchMode.Quick
        ? [GemmShape.Square(1024)]
        : [GemmShape.Square(512), GemmShape.Square(1024), GemmShape.Square(2048)];

    /// <summary>The case being measured.</summary>
    [ParamsSource(nameof(Shapes))]
    public GemmShape Shape { get; set; } = GemmShape.Square(1);

    /// <summary>Random 16-bit inputs; each kernel must agree to 1e-5 with OpenBLAS on its values widened to fp32.</summary>
    [GlobalSetup]
    public void Setup()
    {
        BenchData.EqualFooting();
        float[] a = BenchData.Uniform(Shape.M * Shape.K, 1), b = BenchData.Uniform(Shape.K * Shape.N, 2);
        _halfA = Array.ConvertAll(a, x => (Half)x);
        _halfB = Array.ConvertAll(b, x => (Half)x);
        _bfloatA = Array.ConvertAll(a, x => (BFloat16)x);
        _bfloatB = Array.ConvertAll(b, x => (BFloat16)x);
        _c = new float[Shape.M * Shape.N];
        OpenBlasNative.SetNumThreads(2);

        _a = Array.ConvertAll(_bfloatA, x => (float)x);
        _b = Array.ConvertAll(_bfloatB, x => (float)x);
        OpenBlasOnFp32();
        float[] peer = (float[])_c.Clone();
        KernelDslBf16();
        BenchData.Agree($"bf16 GEMM {Shape}", _c, peer, 1e-5);

        // The timed peer multiplies the fp16 values (timing does not depend on which).
        _a = Array.ConvertAll(_halfA, x => (float)x);
        _b = Array.ConvertAll(_halfB, x => (float)x);
        OpenBlasOnFp32();
        peer = (float[])_c.Clone();
        KernelDslFp16();
        BenchData.Agree($"fp16 GEMM {Shape}", _c, peer, 1e-5);
    }

    /// <summary>The peer: <c>cblas_sgemm</c> on the fp32 copies.</summary>
    [Benchmark(Baseline = true), BenchmarkCategory(Role.Peer)]
    public void OpenBlasOnFp32() => OpenBlasNative.Multiply(Shape, _a, _b, _c);

    /// <summary>fp16 operands (<see cref="Half"/>).</summary>
    [Benchmark, BenchmarkCategory(Role.Ours)]
    public void KernelDslFp16() => BenchHgemm.Run(_halfA, _halfB, _c, Shape.M, Shape.N, Shape.K);

    /// <summary>bf16 operands (<see cref="BFloat16"/>).</summary>
    [Benchmark, BenchmarkCategory(Role.Ours)]
    public void KernelDslBf16() => BenchBgemm.Run(_bfloatA, _bfloatB, _c, Shape.M, Shape.N, Shape.K);
}
