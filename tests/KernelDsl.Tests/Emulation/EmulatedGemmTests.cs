using System;
using System.Globalization;
using System.Linq;
using KernelDsl.Cuda;
using KernelDsl.Emulation;
using KernelDsl.Tests.Cpu;
using Xunit;
using Xunit.Abstractions;

namespace KernelDsl.Tests.Emulation;

/// <summary>
/// Every GEMM the repository declares, its generated CUDA C run on the emulator against a float64 reference: fresh
/// random operands rounded to the element type, rows of A and B padded with NaN (a read past K poisons the result),
/// C poisoned with NaN, padding included, so every element must be written and nothing outside the matrix. On the
/// sm_90 emulator a kernel with an sm_90a kernel runs that one; the sm_80 emulator runs its sm_80 kernel, as an A100 would.
/// </summary>
public sealed class EmulatedGemmTests(ITestOutputHelper output)
{
    public static TheoryData<string> Kernels() => DeclaredKernels.Names<GemmInfo>();

    public static TheoryData<string> KernelsWithSm90a()
    {
        var data = new TheoryData<string>();
        foreach (Type type in DeclaredKernels.Of<GemmInfo>().Where(type => ((GemmInfo)DeclaredKernels.Info(type)!).Sm90a is not null))
        {
            data.Add(type.FullName!);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Kernels))]
    public void Matches_the_float64_reference(string kernel) => MatchesOn(CudaDevice.Emulator, kernel);

    [Theory]
    [MemberData(nameof(KernelsWithSm90a))]
    public void Sm80_kernel_matches_the_float64_reference(string kernel) => MatchesOn(CudaDevice.EmulatorSm80, kernel);

    private void MatchesOn(CudaDevice device, string kernel)
    {
        Type type = DeclaredKernels.Named(kernel);
        var info = (GemmInfo)DeclaredKernels.Info(type)!;
        var shapes = info.Element == Element.F32
            ? new[] { (1, 1, 8), (7, 5, 3), (127, 129, 64), (513, 257, 264) }
            : new[] { (1, 1, 8), (127, 129, 64), (513, 257, 264) };
        foreach (var (m, n, k) in shapes)
        {
            Check(device, type, info, m, n, k, beta: 0f);
        }

        Check(device, type, info, 65, 33, 40, beta: -2f);
    }

    private void Check(CudaDevice device, Type type, GemmInfo info, int m, int n, int k, float beta)
    {
        int seed = StableSeed.Of(string.Create(CultureInfo.InvariantCulture, $"{info.Name} {m} {n} {k} {beta}"));
        var random = new Random(seed);
        int rowsA = info.TransposeA ? k : m, colsA = info.TransposeA ? m : k;
        int rowsB = info.TransposeB ? n : k, colsB = info.TransposeB ? k : n;
        int lda = Padded(colsA), ldb = Padded(colsB), ldc = Padded(n);
        float[] a = Padded(random, rowsA, colsA, lda, info.Element);
        float[] b = Padded(random, rowsB, colsB, ldb, info.Element);
        float[] bias = Padded(random, 1, n, n, info.Output);
        float[] c = beta == 0 ? Filled(m * ldc, float.NaN) : Padded(random, m, n, ldc, info.Output);
        const float alpha = 0.75f;

        var clock = System.Diagnostics.Stopwatch.StartNew();
        float[] result = EmulatedGemm.Run(type, a, lda, b, ldb, c, ldc, m, n, k, bias, alpha, beta, device);
        string expectedKernel = device.Arch == 90 && info.Sm90a is { } sm90a ? sm90a.EntryPoint : info.EntryPoint;
        Assert.Equal(expectedKernel, Emulator.LastReport!.Kernel);
        double diff = 0, norm = 0, diffRounded = 0, normRounded = 0;
        for (int i = 0; i < m; i++)
        {
            for (int j = 0; j < ldc; j++)
            {
                float got = result[i * ldc + j];
                if (j >= n)
                {
                    Assert.True(beta == 0 ? float.IsNaN(got) : got.Equals(c[i * ldc + j]), $"{info.Name} {m}×{n}×{k}: padding C[{i},{j}] was written (seed {seed})");
                    continue;
                }

                double sum = 0;
                for (int p = 0; p < k; p++)
                {
                    sum += (double)a[info.TransposeA ? p * lda + i : i * lda + p] * b[info.TransposeB ? j * ldb + p : p * ldb + j];
                }

                double expected = GemmCheck.Activate(alpha * sum + beta * (double)(beta == 0 ? 0 : c[i * ldc + j]) + (info.Bias ? bias[j] : 0), info.Activation);
                Assert.True(float.IsFinite(got), $"{info.Name} {m}×{n}×{k}: C[{i},{j}] = {got} (seed {seed})");
                diff += (got - expected) * (got - expected);
                norm += expected * expected;
                double rounded = GemmKernel.Round(info.Output, expected);
                diffRounded += (got - rounded) * (got - rounded);
                normRounded += rounded * rounded;
            }
        }

        double error = Math.Sqrt(diff / Math.Max(norm, double.Epsilon)), roundedError = Math.Sqrt(diffRounded / Math.Max(normRounded, double.Epsilon));
        string what = string.Create(CultureInfo.InvariantCulture,
            $"{info.Name} on sm_{device.Arch} ({expectedKernel}) {m}×{n}×{k} β={beta} seed {seed}: error {error:E2} (vs rounded {roundedError:E2}), {clock.Elapsed.TotalSeconds:F2} s");
        output.WriteLine(what);
        double bound = info.Output == Element.F32 ? GemmCheck.Tolerance : GemmCheck.RoundedTolerance(info.Output);
        Assert.True((info.Output == Element.F32 ? error : roundedError) <= bound, what);
    }

    // A row rounded up to a multiple of 8 (the tensor-core path's rule) and 8 more, so every row is followed by padding.
    private static int Padded(int row) => (row + 7) / 8 * 8 + 8;

    // rows×cols values in [−1, 1) rounded to the element type, rows ld apart; the gaps hold NaN.
    private static float[] Padded(Random random, int rows, int cols, int ld, Element element)
    {
        float[] values = Filled(Math.Max(rows * ld, 0), float.NaN);
        for (int r = 0; r < rows; r++)
        {
            for (int col = 0; col < cols; col++)
            {
                values[r * ld + col] = GemmKernel.Round(element, random.NextSingle() * 2 - 1);
            }
        }

        return values;
    }

    private static float[] Filled(int count, float value)
    {
        var values = new float[count];
        Array.Fill(values, value);
        return values;
    }

}
