using System;
using System.Diagnostics;
using System.Globalization;
using System.Threading.Tasks;
using KernelDsl.Cpu;
using Xunit;

namespace KernelDsl.Tests.Cpu;

/// <summary>
/// One numerics check of a generated kernel: fresh random operands in [−1, 1) from a seed derived
/// from the case, C poisoned with NaN (β = 0) or random (β ≠ 0), padding between rows set to a
/// sentinel, then the output compared with a float64 reference by relative Frobenius error.
/// </summary>
public sealed record GemmCheck(GemmKernel Kernel, int M, int N, int K)
{
    public const double Tolerance = 1e-5;

    /// <summary>Written into the gaps between rows (ld larger than a row); must survive the run.</summary>
    public const float Sentinel = 12345.5f;

    public float Alpha { get; init; } = 1f;
    public float Beta { get; init; }
    public int PadA { get; init; }
    public int PadB { get; init; }
    public int PadC { get; init; }
    public CpuIsa? Isa { get; init; }

    /// <summary>
    /// Compare every this-many-th row with the reference (1: all). Large cases sample rows, since the
    /// float64 reference costs M·N·K in an unoptimised test build; every element is still checked written.
    /// </summary>
    public int ReferenceRowStep { get; init; } = 1;

    /// <summary>Scale of the random values (large values push activations to their tails).</summary>
    public float Scale { get; init; } = 1f;

    /// <summary>The case without its seed.</summary>
    public string Case => string.Create(CultureInfo.InvariantCulture,
        $"{Kernel.Name} {M}×{N}×{K} α={Alpha} β={Beta} pads={PadA}/{PadB}/{PadC} isa={Isa?.ToString() ?? "best"} scale={Scale}");

    /// <summary>A stable seed per case (FNV-1a of <see cref="Case"/>; string.GetHashCode is randomised per process).</summary>
    public int Seed
    {
        get
        {
            uint hash = 2166136261;
            foreach (char ch in Case)
            {
                hash = (hash ^ ch) * 16777619;
            }
            return (int)(hash & 0x7fffffff);
        }
    }

    public override string ToString() => Case + " seed=" + Seed.ToString(CultureInfo.InvariantCulture);

    /// <summary>Runs the check; returns the relative error and the time the kernel took.</summary>
    public (double Error, TimeSpan KernelTime) Run()
    {
        string what = ToString();
        var random = new Random(Seed);
        bool ta = Kernel.TransposeA, tb = Kernel.TransposeB;
        int aRows = ta ? K : M, aCols = ta ? M : K, bRows = tb ? N : K, bCols = tb ? K : N;
        int lda = Math.Max(1, aCols) + PadA, ldb = Math.Max(1, bCols) + PadB, ldc = Math.Max(1, N) + PadC;
        float[] a = Matrix(random, aRows, aCols, lda);
        float[] b = Matrix(random, bRows, bCols, ldb);
        float[] c = Matrix(random, M, N, ldc);
        float[] bias = Kernel.Bias ? Matrix(random, 1, N, N) : [];
        if (Beta == 0f)
        {
            for (int i = 0; i < M; i++)
            {
                Array.Fill(c, float.NaN, i * ldc, N);
            }
        }

        double[] expected = Reference(a, lda, b, ldb, c, ldc, bias);
        var clock = Stopwatch.StartNew();
        Kernel.Run(a, lda, b, ldb, c, ldc, M, N, K, bias, Alpha, Beta, Isa);
        var kernelTime = clock.Elapsed;

        double diff = 0, norm = 0;
        for (int i = 0; i < M; i++)
        {
            for (int j = 0; j < N; j++)
            {
                float got = c[i * ldc + j];
                double want = expected[i * N + j];
                if (!float.IsFinite(got))
                {
                    Assert.Fail($"{what}: C[{i},{j}] = {got} (not written, or not finite).");
                }
                if (i % ReferenceRowStep != 0)
                {
                    continue;
                }
                diff += (got - want) * (got - want);
                norm += want * want;
            }
            for (int j = N; j < ldc && i * ldc + j < c.Length; j++)
            {
                if (c[i * ldc + j] != Sentinel)
                {
                    Assert.Fail($"{what}: padding C[{i},{j}] changed to {c[i * ldc + j]}.");
                }
            }
        }
        double error = norm == 0 ? Math.Sqrt(diff) : Math.Sqrt(diff / norm);
        Assert.True(error <= Tolerance, $"{what}: relative Frobenius error {error:E3} > {Tolerance:E0}.");
        return (error, kernelTime);
    }

    private float[] Matrix(Random random, int rows, int cols, int ld)
    {
        int length = rows == 0 || cols == 0 ? 0 : (rows - 1) * ld + cols;
        var values = new float[length];
        Array.Fill(values, Sentinel);
        for (int i = 0; i < rows; i++)
        {
            for (int j = 0; j < cols; j++)
            {
                values[i * ld + j] = Scale * (float)(random.NextDouble() * 2 - 1);
            }
        }
        return values;
    }

    /// <summary>act(α·op(A)·op(B) + β·C + bias) in float64 (β = 0 ignores C).</summary>
    private double[] Reference(float[] a, int lda, float[] b, int ldb, float[] c, int ldc, float[] bias)
    {
        bool ta = Kernel.TransposeA, tb = Kernel.TransposeB;
        // Dense float64 copies of op(A) (M×K) and op(B) (K×N).
        var opA = new double[M * K];
        var opB = new double[K * N];
        for (int i = 0; i < M; i++)
        {
            for (int p = 0; p < K; p++)
            {
                opA[i * K + p] = ta ? a[p * lda + i] : a[i * lda + p];
            }
        }
        for (int p = 0; p < K; p++)
        {
            for (int j = 0; j < N; j++)
            {
                opB[p * N + j] = tb ? b[j * ldb + p] : b[p * ldb + j];
            }
        }
        var result = new double[M * N];
        // Plain arrays and indices: this project builds without optimisation, where span indexers are calls.
        Parallel.For(0, CeilDiv(M, ReferenceRowStep), sample =>
        {
            int i = sample * ReferenceRowStep;
            int rowStart = i * N;
            for (int p = 0; p < K; p++)
            {
                double x = opA[i * K + p];
                int bStart = p * N;
                for (int j = 0; j < N; j++)
                {
                    result[rowStart + j] += x * opB[bStart + j];
                }
            }
            for (int j = 0; j < N; j++)
            {
                double value = Alpha * result[rowStart + j];
                if (Beta != 0f)
                {
                    value += Beta * (double)c[i * ldc + j];
                }
                if (Kernel.Bias)
                {
                    value += bias[j];
                }
                result[rowStart + j] = Activate(value, Kernel.Activation);
            }
        });
        return result;
    }

    private static int CeilDiv(int value, int divisor) => (value + divisor - 1) / divisor;

    public static double Activate(double x, Activation activation) => activation switch
    {
        Activation.Relu => Math.Max(x, 0),
        Activation.Silu => x / (1 + Math.Exp(-x)),
        Activation.Gelu => 0.5 * x * (1 + Math.Tanh(Math.Sqrt(2 / Math.PI) * (x + 0.044715 * x * x * x))),
        _ => x,
    };
}
