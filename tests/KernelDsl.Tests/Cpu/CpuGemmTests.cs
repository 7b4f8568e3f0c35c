using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using KernelDsl.Cpu;
using Xunit;
using Xunit.Abstractions;

namespace KernelDsl.Tests.Cpu;

/// <summary>
/// The generated CPU fallback against a float64 reference: shapes with and without edge tiles,
/// every transpose combination, each epilogue, α/β, K = 0, padded leading dimensions, and every
/// instruction-set width forced through <c>isa:</c>.
/// </summary>
public sealed class CpuGemmTests(ITestOutputHelper output)
{
    internal static readonly CpuIsa[] Isas = [CpuIsa.Scalar, CpuIsa.Vector128, CpuIsa.Vector256, CpuIsa.Vector512];

    internal static readonly (int M, int N, int K)[] Shapes = [(1, 1, 1), (7, 5, 3), (17, 33, 65), (127, 129, 255)];

    public static IEnumerable<object[]> ShapesTransposesIsas()
    {
        foreach (var kernel in GemmKernel.Transposes)
        {
            foreach (var (m, n, k) in Shapes)
            {
                foreach (var isa in Isas)
                {
                    yield return [kernel.Name, m, n, k, isa];
                }
            }
        }
    }

    public static IEnumerable<object[]> KernelsIsas(string group)
    {
        var kernels = group switch
        {
            "transposes" => GemmKernel.Transposes,
            "epilogues" => GemmKernel.Epilogues,
            _ => [GemmKernel.Plain, GemmKernel.BiasGelu, GemmKernel.TransposedAB],
        };
        foreach (var kernel in kernels)
        {
            foreach (var isa in Isas)
            {
                yield return [kernel.Name, isa];
            }
        }
    }

    public static IEnumerable<object[]> IsasOnly()
    {
        foreach (var isa in Isas)
        {
            yield return [isa];
        }
    }

    [Theory]
    [MemberData(nameof(ShapesTransposesIsas))]
    public void MatchesReference(string kernel, int m, int n, int k, CpuIsa isa)
    {
        if (Accelerated(isa))
        {
            Check(new GemmCheck(GemmKernel.Named(kernel), m, n, k) { Isa = isa });
        }
    }

    /// <summary>Bias and activations on edge tiles; α = 3 spreads the inputs over the activations' curved part.</summary>
    [Theory]
    [MemberData(nameof(KernelsIsas), "epilogues")]
    public void Epilogue(string kernel, CpuIsa isa)
    {
        if (Accelerated(isa))
        {
            Check(new GemmCheck(GemmKernel.Named(kernel), 37, 45, 70) { Isa = isa, Alpha = 3f });
        }
    }

    /// <summary>Logits around ±1e4 land on the activations' tails and stay finite.</summary>
    [Theory]
    [MemberData(nameof(KernelsIsas), "epilogues")]
    public void LargeLogitsStayFinite(string kernel, CpuIsa isa)
    {
        if (Accelerated(isa))
        {
            Check(new GemmCheck(GemmKernel.Named(kernel), 9, 35, 20) { Isa = isa, Scale = 40f });
        }
    }

    /// <summary>β ≠ 0 reads C; K = 600 spans several Kc blocks, so the first block applies β and later ones accumulate.</summary>
    [Theory]
    [MemberData(nameof(KernelsIsas), "alpha-beta")]
    public void AlphaAndBeta(string kernel, CpuIsa isa)
    {
        if (Accelerated(isa))
        {
            Check(new GemmCheck(GemmKernel.Named(kernel), 29, 41, 600) { Isa = isa, Alpha = -1.5f, Beta = 0.75f });
        }
    }

    /// <summary>β = 0 with C full of NaN (GemmCheck poisons it) gives a finite, correct result over several K blocks.</summary>
    [Theory]
    [MemberData(nameof(KernelsIsas), "alpha-beta")]
    public void BetaZeroNeverReadsC(string kernel, CpuIsa isa)
    {
        if (Accelerated(isa))
        {
            Check(new GemmCheck(GemmKernel.Named(kernel), 29, 41, 600) { Isa = isa, Alpha = 2f, Beta = 0f });
        }
    }

    /// <summary>K = 0: C ← act(β·C + bias); β = 0 gives act(bias) without reading C.</summary>
    [Theory]
    [MemberData(nameof(KernelsIsas), "alpha-beta")]
    public void ZeroDepth(string kernel, CpuIsa isa)
    {
        if (Accelerated(isa))
        {
            Check(new GemmCheck(GemmKernel.Named(kernel), 13, 37, 0) { Isa = isa, Beta = 0.5f });
            Check(new GemmCheck(GemmKernel.Named(kernel), 13, 37, 0) { Isa = isa, Beta = 0f });
        }
    }

    /// <summary>Rows further apart than their length; the elements in between keep their sentinel.</summary>
    [Theory]
    [MemberData(nameof(KernelsIsas), "transposes")]
    public void LeadingDimensionsLargerThanRows(string kernel, CpuIsa isa)
    {
        if (Accelerated(isa))
        {
            Check(new GemmCheck(GemmKernel.Named(kernel), 19, 23, 31) { Isa = isa, PadA = 3, PadB = 5, PadC = 7, Beta = 0.5f });
            Check(new GemmCheck(GemmKernel.Named(kernel), 19, 23, 31) { Isa = isa, PadA = 1, PadB = 2, PadC = 3 });
        }
    }

    /// <summary>
    /// More rows than one Mc block and more columns than one Nc panel (every width's Mc is at most 256
    /// and Nc at most 4096), with edges in both; the wide case also spans several Kc blocks.
    /// </summary>
    [Theory]
    [MemberData(nameof(IsasOnly))]
    public void SeveralBlocksAndPanels(CpuIsa isa)
    {
        if (Accelerated(isa))
        {
            Check(new GemmCheck(GemmKernel.BiasRelu, 260, 1030, 40) { Isa = isa, Beta = -0.5f });
            Check(new GemmCheck(GemmKernel.TransposedAB, 3, 4200, 600) { Isa = isa, Alpha = 0.5f });
        }
    }

    /// <summary>M = 0 or N = 0 writes nothing.</summary>
    [Theory]
    [InlineData(0, 5, 3)]
    [InlineData(4, 0, 3)]
    [InlineData(0, 0, 0)]
    public void EmptyOutputIsUntouched(int m, int n, int k)
    {
        var c = new float[8];
        Array.Fill(c, GemmCheck.Sentinel);
        Plain.Run(new float[m * k], 3, new float[k * n], 5, c, 5, m, n, k, 1f, 1f);
        Assert.All(c, value => Assert.Equal(GemmCheck.Sentinel, value));
    }

    /// <summary>
    /// One large problem on the widest accelerated width: several row blocks, K blocks and tasks on
    /// every core. Every element must be written; every 7th row (143 rows, all row blocks and tiles
    /// of every sliver) is compared with the float64 reference.
    /// </summary>
    [Fact]
    public void Large1000OnBestIsa()
    {
        var check = new GemmCheck(GemmKernel.Plain, 1000, 1000, 1000) { Isa = CpuFeatures.Best, ReferenceRowStep = 7 };
        var clock = Stopwatch.StartNew();
        var (error, kernelTime) = check.Run();
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{check}: relative error {error:E2}; kernel {kernelTime.TotalMilliseconds:F1} ms, whole check {clock.ElapsedMilliseconds} ms."));
    }

    /// <summary>
    /// Tall and narrow: so many row blocks (M = 4000, Mc ≈ 336 with AVX-512) that each is one task, which packs its own
    /// block of A (CpuGemmShape.SharesPackedA is false), over three K blocks, an edge sliver (N = 70) and padded rows;
    /// with β, a bias and a transposed A.
    /// </summary>
    [Fact]
    public void TallNarrowRowBlocksPackTheirOwnA()
    {
        Check(new GemmCheck(GemmKernel.BiasOnly, 4000, 70, 800) { Isa = CpuFeatures.Best, Beta = 0.5f, PadA = 3, PadC = 5, ReferenceRowStep = 7 });
        Check(new GemmCheck(GemmKernel.TransposedA, 4000, 70, 800) { Isa = CpuFeatures.Best, Alpha = -1.5f, ReferenceRowStep = 7 });
    }

    private void Check(GemmCheck check) => Check(output, check);

    private bool Accelerated(CpuIsa isa) => Accelerated(output, isa);

    internal static void Check(ITestOutputHelper output, GemmCheck check)
    {
        var (error, _) = check.Run();
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{check}: relative error {error:E2}"));
    }

    internal static bool Accelerated(ITestOutputHelper output, CpuIsa isa)
    {
        if (CpuFeatures.IsAccelerated(isa))
        {
            return true;
        }
        output.WriteLine($"Skipped: {isa} is not hardware-accelerated on this machine (CpuFeatures.Best = {CpuFeatures.Best}); forcing it would only run a software emulation.");
        return false;
    }
}
