using System;
using System.Globalization;
using KernelDsl.Cuda;
using KernelDsl.Emulation;
using KernelDsl.Tests.Cpu;
using KernelDsl.Tests.Cuda;
using Xunit;
using Xunit.Abstractions;

namespace KernelDsl.Tests.Emulation;

/// <summary>
/// Zero sizes through the generated dense entry points, with BLAS's meaning, on the CPU fallback and on the generated
/// CUDA kernel (emulator), which must agree: K = 0 makes C ← act(β·C + bias) whatever α is (∞ included); M or N = 0
/// does nothing, and no kernel is launched. C is poisoned before every run.
/// </summary>
public sealed class GemmZeroSizeTests(ITestOutputHelper output)
{
    public static TheoryData<KernelBackend, float, float> DepthZeroCases() => new()
    {
        { KernelBackend.Cpu, 1.5f, 0.5f },
        { KernelBackend.Cpu, float.PositiveInfinity, 0f },
        { KernelBackend.Emulator, 1.5f, 0.5f },
        { KernelBackend.Emulator, float.PositiveInfinity, 0f },
    };

    /// <summary>fp32, bias and GELU, dense Compute with K = 0: gelu(β·C + bias) in float64.</summary>
    [Theory]
    [MemberData(nameof(DepthZeroCases))]
    public void Depth_zero_is_the_epilogue_of_beta_c(KernelBackend backend, float alpha, float beta)
    {
        const int m = 5, n = 7;
        var random = Seeded($"fp32 K=0 {backend} {alpha} {beta}");
        float[] bias = Values(random, n, Element.F32), old = Values(random, m * n, Element.F32);
        float[] c = beta == 0f ? Poisoned(m * n) : (float[])old.Clone();

        Assert.Equal(backend, BiasGelu.Compute([], [], c, m, n, 0, bias, alpha, beta, backend));

        AssertEpilogue(BiasGelu.Info, c, old, bias, m, n, beta, $"{backend} α={alpha} β={beta}");
    }

    /// <summary>
    /// The tensor-core kernels with K = 0 on the emulator: fp16 operands, bf16 C and bias, GELU; and a transposed A
    /// whose dense rows (M = 12) would break the multiple-of-8 rule if any row were read.
    /// </summary>
    [Fact]
    public void Depth_zero_on_the_tensor_core_kernels()
    {
        const int m = 12, n = 24;
        var random = Seeded("tensor-core K=0");
        float[] bias = Values(random, n, Element.BF16), old = Values(random, m * n, Element.BF16);
        var c = Array.ConvertAll(old, value => (BFloat16)value);
        HalfToBFloat16.Compute([], [], c, m, n, 0, Array.ConvertAll(bias, value => (BFloat16)value), alpha: 2f, beta: -0.5f, backend: KernelBackend.Emulator);
        AssertEpilogue(HalfToBFloat16.Info, Array.ConvertAll(c, value => (float)value), old, bias, m, n, -0.5f, "fp16→bf16");

        float[] oldHalf = Values(random, m * n, Element.F16);
        var half = Array.ConvertAll(oldHalf, value => (Half)value);
        HalfToHalf.Compute([], [], half, m, n, 0, alpha: 2f, beta: 0.75f, backend: KernelBackend.Emulator);
        AssertEpilogue(HalfToHalf.Info, Array.ConvertAll(half, value => (float)value), oldHalf, [], m, n, 0.75f, "fp16, Aᵀ with M = 12");
    }

    /// <summary>M or N = 0: C is untouched, the CPU and Compute on the emulator return, and Launch queues no kernel.</summary>
    [Theory]
    [InlineData(0, 5, 3)]
    [InlineData(4, 0, 3)]
    [InlineData(0, 0, 0)]
    public void Empty_output_does_nothing(int m, int n, int k)
    {
        var random = Seeded($"empty {m} {n} {k}");
        float[] a = Values(random, m * k, Element.F32), b = Values(random, k * n, Element.F32), bias = Values(random, n, Element.F32);
        float[] c = new float[8];
        Array.Fill(c, GemmCheck.Sentinel);

        BiasGelu.Run(a, b, c, m, n, k, bias, beta: 1f);
        Assert.Equal(KernelBackend.Emulator, BiasGelu.Compute(a, b, c, m, n, k, bias, beta: 1f, backend: KernelBackend.Emulator));
        Assert.All(c, value => Assert.Equal(GemmCheck.Sentinel, value));

        var device = CudaDevice.Emulator;
        using var stream = new CudaStream(device);
        using var deviceA = DeviceBuffers.Upload(device, a);
        using var deviceB = DeviceBuffers.Upload(device, b);
        using var deviceC = DeviceBuffers.Upload(device, c);
        using var deviceBias = DeviceBuffers.Upload(device, bias);
        // A real launch first, so that this thread's last report is one we know.
        using var one = new DeviceBuffer<float>(1, device);
        using var oneBias = DeviceBuffers.Upload(device, [0.25f]);
        BiasGelu.Launch(stream, deviceA, deviceB, one, 1, 1, 0, oneBias);
        var before = Emulator.LastReport;
        Assert.NotNull(before);

        BiasGelu.Launch(stream, deviceA, deviceB, deviceC, m, n, k, deviceBias, beta: 1f);

        Assert.Same(before, Emulator.LastReport);
        var result = new float[c.Length];
        deviceC.CopyTo(result, stream);
        Assert.All(result, value => Assert.Equal(GemmCheck.Sentinel, value));
    }

    private void AssertEpilogue(GemmInfo info, float[] c, float[] old, float[] bias, int m, int n, float beta, string what)
    {
        double diff = 0, norm = 0;
        for (int i = 0; i < m; i++)
        {
            for (int j = 0; j < n; j++)
            {
                double expected = GemmKernel.Round(info.Output, GemmCheck.Activate(beta * (double)(beta == 0f ? 0 : old[i * n + j]) + (info.Bias ? bias[j] : 0), info.Activation));
                float got = c[i * n + j];
                Assert.True(float.IsFinite(got), $"{info.Name} {what}: C[{i},{j}] = {got}");
                diff += (got - expected) * (got - expected);
                norm += expected * expected;
            }
        }
        double error = Math.Sqrt(diff / norm);
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{info.Name} {what}: {m}×{n}×0 error {error:E2} against the rounded reference"));
        Assert.True(error <= GemmCheck.RoundedTolerance(info.Output), $"{info.Name} {what}: error {error:E3}");
    }

    private Random Seeded(string what)
    {
        int seed = StableSeed.Of(what);
        output.WriteLine($"{what}: seed {seed}");
        return new Random(seed);
    }

    /// <summary>Values in [−1, 1) rounded to <paramref name="element"/>.</summary>
    private static float[] Values(Random random, int count, Element element)
    {
        var values = new float[count];
        for (int i = 0; i < count; i++)
        {
            values[i] = GemmKernel.Round(element, random.NextSingle() * 2 - 1);
        }
        return values;
    }

    private static float[] Poisoned(int count)
    {
        var values = new float[count];
        Array.Fill(values, float.NaN);
        return values;
    }
}
