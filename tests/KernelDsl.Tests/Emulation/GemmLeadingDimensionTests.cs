using System;
using System.Globalization;
using KernelDsl.Tests.Cpu;
using Xunit;
using Xunit.Abstractions;

namespace KernelDsl.Tests.Emulation;

/// <summary>
/// The leading-dimension overloads of <c>Compute</c> (on the CPU and on the generated CUDA kernel in the emulator) and
/// of <c>Run</c> with α and β left at their defaults (1 and 0): rows further apart than their length, a float64
/// reference, C poisoned with NaN (β = 0) and the gaps between rows holding a sentinel that must survive.
/// </summary>
public sealed class GemmLeadingDimensionTests(ITestOutputHelper output)
{
    private const int M = 19, N = 23, K = 31, Lda = K + 3, Ldb = K + 5, Ldc = N + 7;

    [Theory]
    [InlineData(KernelBackend.Cpu, 0.75f, -0.5f)]
    [InlineData(KernelBackend.Cpu, 1.25f, 0f)]
    [InlineData(KernelBackend.Emulator, 0.75f, -0.5f)]
    [InlineData(KernelBackend.Emulator, 1.25f, 0f)]
    public void Compute_with_leading_dimensions(KernelBackend backend, float alpha, float beta)
    {
        var (a, b, c, bias) = Operands($"Compute {backend} {alpha} {beta}", beta);
        double[] expected = Reference(a, b, c, bias, alpha, beta);

        Assert.Equal(backend, BiasGelu.Compute(a, Lda, b, Ldb, c, Ldc, M, N, K, bias, alpha, beta, backend));

        Check(c, expected, $"Compute on {backend}, α={alpha} β={beta}");
    }

    [Fact]
    public void Run_with_leading_dimensions_defaults_to_alpha_1_and_beta_0()
    {
        var (a, b, c, bias) = Operands("Run defaults", beta: 0f);
        double[] expected = Reference(a, b, c, bias, alpha: 1f, beta: 0f);

        BiasGelu.Run(a, Lda, b, Ldb, c, Ldc, M, N, K, bias);

        Check(c, expected, "Run, default α and β");
    }

    /// <summary>BiasGelu's A (M×K) and B (N×K, transposed) rows Lda and Ldb apart, C rows Ldc apart; gaps hold the sentinel.</summary>
    private (float[] A, float[] B, float[] C, float[] Bias) Operands(string what, float beta)
    {
        int seed = StableSeed.Of(what);
        output.WriteLine($"{what}: seed {seed}");
        var random = new Random(seed);
        float[] Matrix(int rows, int cols, int ld, bool poisoned)
        {
            var values = new float[(rows - 1) * ld + cols];
            Array.Fill(values, GemmCheck.Sentinel);
            for (int i = 0; i < rows; i++)
            {
                for (int j = 0; j < cols; j++)
                {
                    values[i * ld + j] = poisoned ? float.NaN : random.NextSingle() * 2 - 1;
                }
            }
            return values;
        }
        return (Matrix(M, K, Lda, false), Matrix(N, K, Ldb, false), Matrix(M, N, Ldc, poisoned: beta == 0f), Matrix(1, N, N, false));
    }

    /// <summary>gelu(α·A·Bᵀ + β·C + bias) in float64, M×N dense.</summary>
    private static double[] Reference(float[] a, float[] b, float[] c, float[] bias, float alpha, float beta)
    {
        var expected = new double[M * N];
        for (int i = 0; i < M; i++)
        {
            for (int j = 0; j < N; j++)
            {
                double sum = 0;
                for (int p = 0; p < K; p++)
                {
                    sum += (double)a[i * Lda + p] * b[j * Ldb + p];
                }
                double old = beta == 0f ? 0 : beta * (double)c[i * Ldc + j];
                expected[i * N + j] = GemmCheck.Activate(alpha * sum + old + bias[j], Activation.Gelu);
            }
        }
        return expected;
    }

    private void Check(float[] c, double[] expected, string what)
    {
        double diff = 0, norm = 0;
        for (int i = 0; i < M; i++)
        {
            for (int j = 0; j < Ldc && i * Ldc + j < c.Length; j++)
            {
                float got = c[i * Ldc + j];
                if (j >= N)
                {
                    Assert.True(got == GemmCheck.Sentinel, $"{what}: the gap C[{i},{j}] became {got}");
                    continue;
                }
                Assert.True(float.IsFinite(got), $"{what}: C[{i},{j}] = {got}");
                double want = expected[i * N + j];
                diff += (got - want) * (got - want);
                norm += want * want;
            }
        }
        double error = Math.Sqrt(diff / norm);
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{what}: relative error {error:E2}"));
        Assert.True(error <= GemmCheck.Tolerance, $"{what}: relative error {error:E3} > {GemmCheck.Tolerance:E0}");
    }
}
