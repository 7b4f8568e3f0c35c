using System;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;

namespace KernelDsl.Benchmarks;

/// <summary>
/// Square fp32 GEMM C = A·B (row-major, no transposes, α = 1, β = 0): the KernelDsl CPU fallback of
/// <see cref="BenchSgemm"/> against OpenBLAS's <c>cblas_sgemm</c> on 2 threads, same inputs.
/// </summary>
[Config(typeof(Config))]
public unsafe class SgemmBenchmarks
{
    private float[] _a = [];
    private float[] _b = [];
    private float[] _c = [];

    /// <summary>M = N = K.</summary>
    [Params(1024)]
    public int N { get; set; }

    /// <summary>Random inputs in [−1, 1), fixed seed; OpenBLAS on 2 threads.</summary>
    [GlobalSetup]
    public void Setup()
    {
        var random = new Random(2026);
        _a = Random(random, N * N);
        _b = Random(random, N * N);
        _c = new float[N * N];
        OpenBlasNative.SetNumThreads(2);
    }

    /// <summary>The peer: <c>cblas_sgemm</c>, row-major, no transposes.</summary>
    [Benchmark(Baseline = true)]
    public void OpenBlas()
    {
        fixed (float* a = _a, b = _b, c = _c)
        {
            OpenBlasNative.Sgemm(OpenBlasNative.RowMajor, OpenBlasNative.NoTrans, OpenBlasNative.NoTrans, N, N, N, 1f, a, N, b, N, 0f, c, N);
        }
    }

    /// <summary>The generated CPU fallback (widest accelerated vectors, every core).</summary>
    [Benchmark]
    public void KernelDsl() => BenchSgemm.Run(_a, _b, _c, N, N, N);

    private static float[] Random(Random random, int count)
    {
        var values = new float[count];
        for (int i = 0; i < values.Length; i++)
        {
            values[i] = random.NextSingle() * 2 - 1;
        }
        return values;
    }

    private sealed class Config : ManualConfig
    {
        public Config()
        {
            AddColumn(StatisticColumn.Median);
            AddColumn(new GflopsColumn());
        }
    }
}
