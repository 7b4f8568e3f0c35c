using System;
using System.Globalization;
using KernelDsl.Cpu;
using KernelDsl.Cuda;
using KernelDsl.Tests.Cpu;
using Xunit;

namespace KernelDsl.Tests.Cuda;

/// <summary>
/// The generated GPU entry points. Without a device: argument rules, the backend choice and the CPU
/// route of <c>Compute</c> are checked; the GPU runs are skipped and say why.
/// </summary>
public sealed class GemmLaunchTests
{
    [Theory]
    [InlineData(12, 16, 16, "k")]
    [InlineData(16, 12, 16, "lda")]
    [InlineData(16, 16, 20, "ldb")]
    public void Tensor_core_layout_needs_multiples_of_8(int k, int lda, int ldb, string parameter)
    {
        var arguments = new GemmArguments(32, 32, k, lda, ldb, 32, 1f, 0f, TransposeA: false, TransposeB: true, HasBias: false);
        var error = Assert.Throws<ArgumentException>(() => GemmLaunch.CheckTensorCoreLayout(arguments));
        Assert.Equal(parameter, error.ParamName);
        Assert.Contains("multiple of 8", error.Message);
    }

    /// <summary>No row of A or B is read when a size is 0, so leading dimensions of 1 (BLAS's minimum) pass.</summary>
    [Theory]
    [InlineData(0, 32, 16)]
    [InlineData(32, 0, 16)]
    [InlineData(32, 32, 0)]
    public void Tensor_core_layout_is_not_checked_when_nothing_is_read(int m, int n, int k)
        => GemmLaunch.CheckTensorCoreLayout(new GemmArguments(m, n, k, 1, 1, Math.Max(1, n), 1f, 0f, TransposeA: true, TransposeB: false, HasBias: false));

    [NoGpuFact]
    public void Compute_without_a_device_runs_on_the_cpu_and_is_correct()
    {
        var (a, b, bias) = Operands(37, 29, 53, seed: 11);
        float[] c = Poisoned(37 * 29);

        var backend = BiasGelu.Compute(a, b, c, 37, 29, 53, bias);

        Assert.Equal(KernelBackend.Cpu, backend);
        Assert.True(Error(BiasGelu.Info, a, b, bias, c, 37, 29, 53) <= 1e-5);
    }

    [NoGpuFact]
    public void Compute_on_cuda_without_a_device_says_so()
    {
        var (a, b, bias) = Operands(8, 8, 8, seed: 12);
        var error = Assert.Throws<CudaUnavailableException>(() => BiasGelu.Compute(a, b, new float[64], 8, 8, 8, bias, backend: KernelBackend.Cuda));
        Assert.False(string.IsNullOrWhiteSpace(error.Message));
    }

    /// <summary>Every fp32 test kernel on the GPU against float64, ragged shapes, output poisoned first.</summary>
    [GpuFact]
    public void Generated_fp32_kernels_match_the_float64_reference_on_the_gpu()
    {
        foreach (var (m, n, k) in new[] { (1, 1, 1), (7, 5, 3), (17, 33, 65), (127, 129, 255), (300, 257, 1000) })
        {
            Check(Plain.Info, (a, b, c, bias) => Plain.Compute(a, b, c, m, n, k, backend: GpuFactAttribute.Backend), m, n, k);
            Check(TransposedAB.Info, (a, b, c, bias) => TransposedAB.Compute(a, b, c, m, n, k, backend: GpuFactAttribute.Backend), m, n, k);
            Check(BiasGelu.Info, (a, b, c, bias) => BiasGelu.Compute(a, b, c, m, n, k, bias, backend: GpuFactAttribute.Backend), m, n, k);
        }
    }

    [GpuFact]
    public void Beta_reads_c_on_the_gpu()
    {
        const int m = 65, n = 33, k = 40;
        var (a, b, _) = Operands(m, n, k, seed: 13);
        float[] c = Operands(m, 1, n, seed: 14).A;  // m×n values
        float[] expected = (float[])c.Clone();
        Plain.Run(a, b, expected, m, n, k, alpha: 0.5f, beta: -2f);

        Plain.Compute(a, b, c, m, n, k, alpha: 0.5f, beta: -2f, backend: GpuFactAttribute.Backend);

        double diff = 0, norm = 0;
        for (int i = 0; i < c.Length; i++)
        {
            diff += (c[i] - expected[i]) * (double)(c[i] - expected[i]);
            norm += expected[i] * (double)expected[i];
        }
        Assert.True(Math.Sqrt(diff / norm) <= 1e-5, "seed 13/14");
    }

    private delegate void Gemm(float[] a, float[] b, float[] c, float[] bias);

    private static void Check(GemmInfo info, Gemm gemm, int m, int n, int k)
    {
        int seed = m * 7919 + n * 31 + k;
        var (a, b, bias) = Operands(m, n, k, seed);
        float[] c = Poisoned(m * n);
        gemm(a, b, c, bias);
        Assert.DoesNotContain(c, float.IsNaN);
        double error = Error(info, a, b, bias, c, m, n, k);
        Assert.True(error <= 1e-5, string.Create(CultureInfo.InvariantCulture, $"{info.Name} {m}×{n}×{k} seed {seed}: error {error:E2}"));
    }

    private static (float[] A, float[] B, float[] Bias) Operands(int m, int n, int k, int seed)
    {
        var random = new Random(seed);
        float[] Values(int count)
        {
            var values = new float[count];
            for (int i = 0; i < count; i++)
            {
                values[i] = random.NextSingle() * 2 - 1;
            }
            return values;
        }
        return (Values(m * k), Values(k * n), Values(n));
    }

    private static float[] Poisoned(int count)
    {
        var values = new float[count];
        Array.Fill(values, float.NaN);
        return values;
    }

    /// <summary>‖C − ref‖ / ‖ref‖ with ref = act(op(A)·op(B) + bias) in float64 (α = 1, β = 0).</summary>
    private static double Error(GemmInfo info, float[] a, float[] b, float[] bias, float[] c, int m, int n, int k)
    {
        double diff = 0, norm = 0;
        for (int i = 0; i < m; i++)
        {
            for (int j = 0; j < n; j++)
            {
                double sum = info.Bias ? bias[j] : 0;
                for (int p = 0; p < k; p++)
                {
                    sum += (double)(info.TransposeA ? a[p * m + i] : a[i * k + p]) * (info.TransposeB ? b[j * k + p] : b[p * n + j]);
                }
                double expected = info.Activation switch
                {
                    Activation.Relu => Math.Max(sum, 0),
                    Activation.Silu => sum / (1 + Math.Exp(-sum)),
                    Activation.Gelu => 0.5 * sum * (1 + Math.Tanh(Math.Sqrt(2 / Math.PI) * (sum + 0.044715 * sum * sum * sum))),
                    _ => sum,
                };
                double d = c[i * n + j] - expected;
                diff += double.IsFinite(d) ? d * d : double.PositiveInfinity;
                norm += expected * expected;
            }
        }
        return Math.Sqrt(diff / norm);
    }
}
