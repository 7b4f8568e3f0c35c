using System;
using System.Globalization;
using System.Threading.Tasks;
using KernelDsl.Cpu;
using Xunit;

namespace KernelDsl.Tests.Cpu;

/// <summary>
/// One numerics check of a generated kernel: fresh random operands in [−1, 1) from a seed derived
/// from the case, rounded to the kernel's element types, C poisoned with NaN (β = 0) or random
/// (β ≠ 0), padding between rows set to a sentinel, then the output compared with a float64
/// reference (of the rounded inputs) by relative Frobenius error.
/// </summary>
/// <remarks>
/// fp32 output: the error is fp32 accumulation only, at most <see cref="Tolerance"/>. A 16-bit output
/// adds one rounding of each result: its error against the reference rounded to the output type must be
/// at most <see cref="RoundedTolerance"/>, and its error against the exact reference at most
/// <see cref="RoundingFactor"/> times that of the rounded reference, plus <see cref="Tolerance"/>.
/// </remarks>
public sealed record GemmCheck(GemmKernel Kernel, int M, int N, int K)
{
    public const double Tolerance = 1e-5;

    /// <summary>How much worse than rounding the exact result a 16-bit output may be.</summary>
    public const double RoundingFactor = 2;

    /// <summary>Error bound of a 16-bit output against the reference rounded to its type.</summary>
    public static double RoundedTolerance(Element output) => output == Element.BF16 ? 1e-2 : 1e-3;

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
    public int Seed => StableSeed.Of(Case);

    public override string ToString() => Case + " seed=" + Seed.ToString(CultureInfo.InvariantCulture);

    /// <summary>
    /// Every element must equal the reference rounded to the output type, bit for bit (NaN never
    /// passes). Holds when the fp32 result is exact: K = 1, α = 1, no bias or activation.
    /// </summary>
    public bool Exact { get; init; }

    /// <summary>Runs the check; returns the relative error (against the exact reference) and the time the kernel took.</summary>
    public (double Error, TimeSpan KernelTime) Run()
    {
        string what = ToString();
        var random = new Random(Seed);
        bool ta = Kernel.TransposeA, tb = Kernel.TransposeB;
        int aRows = ta ? K : M, aCols = ta ? M : K, bRows = tb ? N : K, bCols = tb ? K : N;
        int lda = Math.Max(1, aCols) + PadA, ldb = Math.Max(1, bCols) + PadB, ldc = Math.Max(1, N) + PadC;
        float[] a = Matrix(random, aRows, aCols, lda, Kernel.Input);
        float[] b = Matrix(random, bRows, bCols, ldb, Kernel.Input);
        float[] c = Matrix(random, M, N, ldc, Kernel.Output);
        float[] bias = Kernel.Bias ? Matrix(random, 1, N, N, Kernel.Output) : [];
        if (Beta == 0f)
        {
            for (int i = 0; i < M; i++)
            {
                Array.Fill(c, float.NaN, i * ldc, N);
            }
        }

        double[] expected = Reference(a, lda, b, ldb, c, ldc, bias);
        var kernelTime = Kernel.Run(a, lda, b, ldb, c, ldc, M, N, K, bias, Alpha, Beta, Isa);

        // diff: against the exact reference; rounded: against it rounded to the output type; unavoidable: the rounding itself.
        double diff = 0, rounded = 0, unavoidable = 0, norm = 0;
        float sentinel = GemmKernel.Round(Kernel.Output, Sentinel);
        for (int i = 0; i < M; i++)
        {
            for (int j = 0; j < N; j++)
            {
                float got = c[i * ldc + j];
                if (!float.IsFinite(got))
                {
                    Assert.Fail($"{what}: C[{i},{j}] = {got} (not written, or not finite).");
                }
                if (i % ReferenceRowStep != 0)
                {
                    continue;
                }
                double want = expected[i * N + j];
                float wantRounded = GemmKernel.Round(Kernel.Output, want);
                if (Exact && BitConverter.SingleToInt32Bits(got) != BitConverter.SingleToInt32Bits(wantRounded))
                {
                    Assert.Fail(string.Create(CultureInfo.InvariantCulture,
                        $"{what}: C[{i},{j}] = {got:R}, but the exact result {want:R} rounds to {wantRounded:R}."));
                }
                diff += (got - want) * (got - want);
                rounded += (got - (double)wantRounded) * (got - (double)wantRounded);
                unavoidable += (wantRounded - want) * (wantRounded - want);
                norm += want * want;
            }
            for (int j = N; j < ldc && i * ldc + j < c.Length; j++)
            {
                if (c[i * ldc + j] != sentinel)
                {
                    Assert.Fail($"{what}: padding C[{i},{j}] changed to {c[i * ldc + j]}.");
                }
            }
        }
        double scale = norm == 0 ? 1 : norm;
        double error = Math.Sqrt(diff / scale);
        if (Kernel.Output == Element.F32)
        {
            Assert.True(error <= Tolerance, $"{what}: relative Frobenius error {error:E3} > {Tolerance:E0}.");
        }
        else
        {
            double errorRounded = Math.Sqrt(rounded / scale), roundingError = Math.Sqrt(unavoidable / scale);
            double tolerance = RoundedTolerance(Kernel.Output);
            Assert.True(errorRounded <= tolerance,
                $"{what}: relative Frobenius error against the reference rounded to {Kernel.Output} {errorRounded:E3} > {tolerance:E0}.");
            Assert.True(error <= RoundingFactor * roundingError + Tolerance,
                $"{what}: relative Frobenius error {error:E3} > {RoundingFactor}× that of rounding the reference to {Kernel.Output} ({roundingError:E3}) + {Tolerance:E0}.");
        }
        return (error, kernelTime);
    }

    /// <summary>Random values in [−Scale, Scale) rounded to <paramref name="element"/>; the gaps between rows hold the sentinel.</summary>
    private float[] Matrix(Random random, int rows, int cols, int ld, Element element)
    {
        int length = rows == 0 || cols == 0 ? 0 : (rows - 1) * ld + cols;
        var values = new float[length];
        Array.Fill(values, GemmKernel.Round(element, Sentinel));
        for (int i = 0; i < rows; i++)
        {
            for (int j = 0; j < cols; j++)
            {
                values[i * ld + j] = GemmKernel.Round(element, Scale * (float)(random.NextDouble() * 2 - 1));
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
