using System.Collections.Generic;
using KernelDsl.Cpu;
using Xunit;
using Xunit.Abstractions;

namespace KernelDsl.Tests.Cpu;

/// <summary>
/// The CPU fallback of GEMMs with fp16 and bf16 operands (converted while packing, computed in fp32)
/// and fp32, fp16 or bf16 output (rounded once), against a float64 reference of the rounded inputs:
/// ragged shapes, every transpose combination, bias and activations, α/β over several K blocks,
/// K = 0, padded leading dimensions, several row blocks and panels, every instruction-set width.
/// See <see cref="GemmCheck"/> for the error bounds.
/// </summary>
public sealed class CpuGemmSixteenBitTests(ITestOutputHelper output)
{
    public static IEnumerable<object[]> ShapesKernelsIsas()
    {
        foreach (var kernel in GemmKernel.SixteenBit)
        {
            foreach (var (m, n, k) in CpuGemmTests.Shapes)
            {
                foreach (var isa in CpuGemmTests.Isas)
                {
                    yield return [kernel.Name, m, n, k, isa];
                }
            }
        }
    }

    public static IEnumerable<object[]> KernelsIsas(string group)
    {
        foreach (var kernel in GemmKernel.SixteenBit)
        {
            bool take = group switch
            {
                // No bias or activation: K = 1 products are exact in fp32, so C is one rounding of the exact value.
                "exact" => !kernel.Bias && kernel.Activation == Activation.None,
                // One fp16 and one bf16 output, both with bias and activation.
                "panels" => kernel == GemmKernel.HalfToBFloat16 || kernel == GemmKernel.BFloat16ToHalf,
                _ => true,
            };
            if (take)
            {
                foreach (var isa in CpuGemmTests.Isas)
                {
                    yield return [kernel.Name, isa];
                }
            }
        }
    }

    [Theory]
    [MemberData(nameof(ShapesKernelsIsas))]
    public void MatchesReference(string kernel, int m, int n, int k, CpuIsa isa)
    {
        if (Accelerated(isa))
        {
            Check(new GemmCheck(GemmKernel.Named(kernel), m, n, k) { Isa = isa });
        }
    }

    /// <summary>
    /// β ≠ 0 reads C (16-bit C converted); K = 600 spans several Kc blocks, so a 16-bit C's partial sums
    /// must stay in fp32 between them; α = 3 with the bias spreads the values over the activations' curve.
    /// </summary>
    [Theory]
    [MemberData(nameof(KernelsIsas), "all")]
    public void AlphaBetaAndEpilogue(string kernel, CpuIsa isa)
    {
        if (Accelerated(isa))
        {
            Check(new GemmCheck(GemmKernel.Named(kernel), 29, 41, 600) { Isa = isa, Alpha = -1.5f, Beta = 0.75f });
            Check(new GemmCheck(GemmKernel.Named(kernel), 37, 45, 70) { Isa = isa, Alpha = 3f });
        }
    }

    /// <summary>K = 0: C ← act(β·C + bias); β = 0 gives act(bias) without reading the NaN-poisoned C.</summary>
    [Theory]
    [MemberData(nameof(KernelsIsas), "all")]
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
    [MemberData(nameof(KernelsIsas), "all")]
    public void LeadingDimensionsLargerThanRows(string kernel, CpuIsa isa)
    {
        if (Accelerated(isa))
        {
            Check(new GemmCheck(GemmKernel.Named(kernel), 19, 23, 31) { Isa = isa, PadA = 3, PadB = 5, PadC = 7, Beta = 0.5f });
        }
    }

    /// <summary>
    /// With K = 1 and α = 1 the fp32 result is exact, so every element of C must be exactly the
    /// reference rounded to nearest even in the output type, subnormals included (vector and scalar tails).
    /// </summary>
    [Theory]
    [MemberData(nameof(KernelsIsas), "exact")]
    public void RoundsOnceToNearestEven(string kernel, CpuIsa isa)
    {
        if (Accelerated(isa))
        {
            Check(new GemmCheck(GemmKernel.Named(kernel), 37, 45, 1) { Isa = isa, Exact = true });
        }
    }

    /// <summary>
    /// More rows than one Mc block (every width's Mc is at most 256) and more columns than one Nc panel
    /// (at most 4096), several K blocks: a 16-bit C's fp32 workspace holds one panel and is reused.
    /// </summary>
    [Theory]
    [MemberData(nameof(KernelsIsas), "panels")]
    public void SeveralBlocksAndPanels(string kernel, CpuIsa isa)
    {
        if (Accelerated(isa))
        {
            Check(new GemmCheck(GemmKernel.Named(kernel), 260, 1030, 40) { Isa = isa, Beta = -0.5f });
            Check(new GemmCheck(GemmKernel.Named(kernel), 3, 4200, 600) { Isa = isa, Alpha = 0.5f, Beta = 0.25f });
        }
    }

    private void Check(GemmCheck check) => CpuGemmTests.Check(output, check);

    private bool Accelerated(CpuIsa isa) => CpuGemmTests.Accelerated(output, isa);
}
