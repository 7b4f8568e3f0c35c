using System;
using System.Collections.Generic;
using KernelDsl.Cpu;
using Xunit;
using Xunit.Abstractions;

namespace KernelDsl.Tests.Attention;

/// <summary>
/// The generated CPU ring-attention kernels against float64 attention over the whole sequence: P ∈ {1, 2, 3, 4, 8}
/// in-process ranks, every layout causal and not, sequence lengths that are not multiples of the tiles (67, 130, 203) or shorter than the ring (ranks with no token),
/// d ∈ {64, 128}, grouped-query attention, fp32, fp16 and bf16, every instruction-set width, ForwardStep with
/// fully masked rows, logits around ±1e4. A representative matrix, not a full product (the folder stays fast).
/// </summary>
public sealed class RingAttentionKernelTests(ITestOutputHelper output)
{
    /// <summary>fp32 output error bound, relative to ‖reference‖ (DESIGN: aim 1e-5).</summary>
    private const double Fp32Tolerance = 1e-5;

    public static IEnumerable<object[]> Fp32Rings() =>
    [
        [nameof(F32CausalContiguous), 1, 67, 2, 2],
        [nameof(F32CausalContiguous), 3, 203, 4, 2],
        [nameof(F32CausalContiguous), 8, 203, 2, 2],
        [nameof(F32CausalStriped), 2, 203, 2, 2],
        [nameof(F32CausalStriped), 4, 67, 4, 2],
        [nameof(F32CausalStriped), 8, 203, 2, 1],
        [nameof(F32CausalZigzag), 1, 203, 4, 2],
        [nameof(F32CausalZigzag), 3, 67, 2, 2],
        [nameof(F32CausalZigzag), 4, 203, 4, 2],
        [nameof(F32CausalZigzag), 8, 67, 2, 2],
        [nameof(F32CausalZigzag), 8, 5, 2, 2],
        [nameof(F32Contiguous), 2, 67, 2, 2],
        [nameof(F32Contiguous), 4, 203, 4, 2],
        [nameof(F32Striped), 3, 203, 2, 2],
        [nameof(F32Striped), 8, 67, 2, 2],
        [nameof(F32Striped), 4, 3, 2, 1],
        [nameof(F32Zigzag), 2, 67, 2, 2],
        [nameof(F32Zigzag), 8, 203, 4, 2],
        [nameof(F32D128CausalZigzag), 2, 130, 2, 2],
        [nameof(F32D128CausalZigzag), 4, 203, 4, 2],
        [nameof(F32D128Striped), 1, 203, 4, 2],
        [nameof(F32D128Striped), 3, 203, 2, 2],
    ];

    /// <summary>The ring over P ranks reproduces single-device fp32 attention within 1e-5 (O and L).</summary>
    [Theory]
    [MemberData(nameof(Fp32Rings))]
    public void Fp32RingMatchesFullAttention(string kernel, int ranks, int sequenceLength, int heads, int kvHeads)
    {
        var outcome = Run(kernel, new AttentionCase(ranks, sequenceLength, heads, kvHeads), k => k.RunRing);
        Assert.True(outcome.ErrorO <= Fp32Tolerance && outcome.ErrorLse <= Fp32Tolerance, $"{kernel}: {outcome} exceeds {Fp32Tolerance:E0}.");
    }

    public static IEnumerable<object[]> SixteenBitRings() =>
    [
        [nameof(F16CausalZigzag), 1, 67, 2, 2],
        [nameof(F16CausalZigzag), 4, 203, 4, 2],
        [nameof(F16D128Contiguous), 3, 203, 2, 2],
        [nameof(BF16CausalStriped), 8, 203, 2, 2],
        [nameof(BF16D128CausalContiguous), 2, 203, 4, 2],
    ];

    /// <summary>
    /// fp16/bf16, flash-attention's rule: the error of O is at most twice that of a naive attention in the same precision
    /// (<see cref="AttentionMath.NaiveSamePrecision"/>: Q·scale, S, P and O each rounded to the element type) plus a small
    /// slack (a quarter of the element's unit roundoff, for cases where both are tiny); also within DESIGN's 1e-2.
    /// </summary>
    [Theory]
    [MemberData(nameof(SixteenBitRings))]
    public void SixteenBitRingIsWithinTwiceTheNaiveError(string kernel, int ranks, int sequenceLength, int heads, int kvHeads)
    {
        var outcome = Run(kernel, new AttentionCase(ranks, sequenceLength, heads, kvHeads), k => k.RunRing);
        double slack = 0.25 * UnitRoundoff(AttentionKernel.Named(kernel).Info.Element);
        Assert.True(outcome.ErrorO <= 2 * outcome.NaiveErrorO + slack, $"{kernel}: {outcome}: O error above 2 × naive + {slack:E1}.");
        Assert.True(outcome.MaxErrorO <= 2 * outcome.NaiveMaxErrorO + slack, $"{kernel}: {outcome}: largest O error above 2 × naive's + {slack:E1}.");
        Assert.True(outcome.ErrorO <= 1e-2 && outcome.ErrorLse <= Fp32Tolerance, $"{kernel}: {outcome}.");
    }

    public static IEnumerable<object[]> KernelsAndIsas()
    {
        foreach (var isa in new[] { CpuIsa.Scalar, CpuIsa.Vector128, CpuIsa.Vector256, CpuIsa.Vector512 })
        {
            yield return [nameof(F32CausalStriped), isa];
            yield return [nameof(F16CausalZigzag), isa];
            yield return [nameof(BF16CausalStriped), isa];
        }
    }

    /// <summary>Each vector width, forced, computes the same attention (a width this machine does not accelerate is skipped, with a message).</summary>
    [Theory]
    [MemberData(nameof(KernelsAndIsas))]
    public void EveryIsaMatchesFullAttention(string kernel, CpuIsa isa)
    {
        if (!CpuFeatures.IsAccelerated(isa))
        {
            output.WriteLine($"Skipped: {isa} is not hardware-accelerated on this machine (CpuFeatures.Best = {CpuFeatures.Best}); forcing it would only run a software emulation.");
            return;
        }
        var outcome = Run(kernel, new AttentionCase(3, 67, 4, 2) { Isa = isa }, k => k.RunRing);
        double tolerance = AttentionKernel.Named(kernel).Info.Element == Element.F32 ? Fp32Tolerance : 1e-2;
        Assert.True(outcome.ErrorO <= tolerance && outcome.ErrorLse <= Fp32Tolerance, $"{kernel} with {isa}: {outcome}.");
    }

    /// <summary>
    /// ForwardStep against one shard alone, then Finalize: the attention over that shard's keys. Rows that see none of
    /// them (a later shard under the causal mask: all rows of contiguous rank 0 against rank 1; the query at position 0
    /// of striped rank 0 against rank 1) give O = 0 and L = −∞ exactly; the others match float64 over those keys.
    /// </summary>
    [Theory]
    [InlineData(nameof(F32CausalContiguous), 2, 0, 1)]
    [InlineData(nameof(F32CausalStriped), 4, 0, 1)]
    [InlineData(nameof(F16CausalZigzag), 3, 1, 2)]
    [InlineData(nameof(BF16D128CausalContiguous), 3, 2, 0)]
    public void ForwardStepOverOneShard(string kernel, int ranks, int rank, int sourceRank)
    {
        var outcome = Run(kernel, new AttentionCase(ranks, 67, 4, 2), k => check => k.RunOneStep(check, rank, sourceRank));
        double tolerance = AttentionKernel.Named(kernel).Info.Element == Element.F32 ? Fp32Tolerance : 1e-2;
        Assert.True(outcome.ErrorO <= tolerance && outcome.ErrorLse <= Fp32Tolerance, $"{kernel}: {outcome}.");
    }

    /// <summary>A schedule of one's own: each rank's shards through ForwardStep, last source first; the merge is exact in any order.</summary>
    [Theory]
    [InlineData(nameof(F32CausalZigzag), 4)]
    [InlineData(nameof(F32Striped), 3)]
    public void ForwardStepInAnyOrderMatchesFullAttention(string kernel, int ranks)
    {
        var outcome = Run(kernel, new AttentionCase(ranks, 67, 2, 2), k => check => k.RunSteps(check, (rank, step) => (rank + step + 1) % ranks));
        Assert.True(outcome.ErrorO <= Fp32Tolerance && outcome.ErrorLse <= Fp32Tolerance, $"{kernel}: {outcome}.");
    }

    /// <summary>The one-device entry point equals full attention.</summary>
    [Theory]
    [InlineData(nameof(F32CausalStriped))]
    [InlineData(nameof(F16D128Contiguous))]
    public void AttentionWithoutRingMatchesFullAttention(string kernel)
    {
        var outcome = Run(kernel, new AttentionCase(1, 67, 4, 2), k => k.RunSingle);
        double tolerance = AttentionKernel.Named(kernel).Info.Element == Element.F32 ? Fp32Tolerance : 1e-2;
        Assert.True(outcome.ErrorO <= tolerance && outcome.ErrorLse <= Fp32Tolerance, $"{kernel}: {outcome}.");
    }

    /// <summary>Logits around ±1e4 (Q scaled by 3·10⁴): exp2 of large negative differences underflows to 0 without NaN or ∞.</summary>
    [Theory]
    [InlineData(nameof(F32CausalZigzag))]
    [InlineData(nameof(F32Striped))]
    [InlineData(nameof(BF16CausalStriped))]
    public void LargeLogitsStayFinite(string kernel)
    {
        var outcome = Run(kernel, new AttentionCase(4, 67, 2, 2) { InputScale = 3e4f }, k => k.RunRing);
        Assert.True(outcome.ErrorO <= 1e-2 && outcome.ErrorLse <= 1e-5, $"{kernel}: {outcome}.");
    }

    /// <summary>A step large enough to run on several threads gives bit-identical results run after run.</summary>
    [Fact]
    public void ParallelStepIsDeterministic()
    {
        var kernel = AttentionKernel.Named(nameof(F32D128Striped));
        var check = new AttentionCase(1, 203, 4, 2);
        var first = kernel.RunRing(check);
        var second = kernel.RunRing(check);
        output.WriteLine($"{kernel.Name} {check}: {first}");
        Assert.Equal(first, second);
    }

    private AttentionOutcome Run(string name, AttentionCase check, Func<AttentionKernel, Func<AttentionCase, AttentionOutcome>> entry)
    {
        var kernel = AttentionKernel.Named(name);
        var outcome = entry(kernel)(check);
        output.WriteLine($"{kernel.Name} ({kernel.Info.Element}, d={kernel.Info.HeadDim}, {(kernel.Info.Causal ? "causal" : "non-causal")} {kernel.Info.Layout}) {check}: {outcome}");
        return outcome;
    }

    private static double UnitRoundoff(Element element) => element switch
    {
        Element.F16 => Math.Pow(2, -11),
        Element.BF16 => Math.Pow(2, -8),
        _ => Math.Pow(2, -24),
    };
}
