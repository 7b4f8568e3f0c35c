using System;
using KernelDsl.Ring;
using Xunit;

namespace KernelDsl.Tests.Ring;

/// <summary>The merge of attention partials on its own: exact in float64 terms, associative, and safe at −∞ and ±1e4.</summary>
public sealed class AttentionMergeTests
{
    private const double Tolerance = 1e-6;

    [Theory]
    [InlineData(1)]
    [InlineData(7)]
    [InlineData(64)]
    [InlineData(67)]
    [InlineData(128)]
    public void MatchesFloat64AndIsAssociativeAndCommutative(int headDim)
    {
        var random = new Random(7919 * headDim);
        for (int trial = 0; trial < 200; trial++)
        {
            var (oa, la) = Partial(random, headDim, 20);
            var (ob, lb) = Partial(random, headDim, 20);
            var (oc, lc) = Partial(random, headDim, 20);

            var (left, leftL) = Merge(Merge((oa, la), (ob, lb)), (oc, lc));
            var (right, rightL) = Merge((oa, la), Merge((ob, lb), (oc, lc)));
            var (swapped, swappedL) = Merge((oc, lc), Merge((ob, lb), (oa, la)));

            // Float64: L = ln Σ e^{Lx}, O = Σ e^{Lx − L}·Ox.
            double exactL = Math.Log(Math.Exp(la) + Math.Exp(lb) + Math.Exp(lc));
            var exact = new double[headDim];
            var magnitude = new double[headDim];
            for (int c = 0; c < headDim; c++)
            {
                exact[c] = Math.Exp(la - exactL) * oa[c] + Math.Exp(lb - exactL) * ob[c] + Math.Exp(lc - exactL) * oc[c];
                magnitude[c] = Math.Exp(la - exactL) * Math.Abs(oa[c]) + Math.Exp(lb - exactL) * Math.Abs(ob[c]) + Math.Exp(lc - exactL) * Math.Abs(oc[c]);
            }
            foreach (var (o, l) in new[] { (left, leftL), (right, rightL), (swapped, swappedL) })
            {
                Assert.True(Math.Abs(l - exactL) <= Tolerance * Math.Max(1, Math.Abs(exactL)), $"L {l} vs {exactL}");
                Assert.True(RelativeError(o, exact, magnitude) <= Tolerance, $"O error {RelativeError(o, exact, magnitude):E2}");
            }
        }
    }

    [Fact]
    public void EmptyRowIsTheIdentity()
    {
        var random = new Random(17);
        var (ob, lb) = Partial(random, 67, 5);
        float[] empty = new float[67];

        // (−∞, 0) ⊕ (−∞, 0) = (−∞, 0)
        var (both, bothL) = Merge((empty, float.NegativeInfinity), (empty, float.NegativeInfinity));
        Assert.Equal(float.NegativeInfinity, bothL);
        Assert.All(both, value => Assert.Equal(0f, value));
        Assert.Equal(float.NegativeInfinity, AttentionMerge.CombineLse(float.NegativeInfinity, float.NegativeInfinity));

        // (−∞, 0) ⊕ (Lb, Ob) = (Lb, Ob) and (Lb, Ob) ⊕ (−∞, 0) = (Lb, Ob), bit for bit.
        foreach (var (o, l) in new[] { Merge((empty, float.NegativeInfinity), (ob, lb)), Merge((ob, lb), (empty, float.NegativeInfinity)) })
        {
            Assert.Equal(lb, l);
            Assert.Equal(ob, o);
        }
        Assert.Equal(lb, AttentionMerge.CombineLse(float.NegativeInfinity, lb));
        Assert.Equal(lb, AttentionMerge.CombineLse(lb, float.NegativeInfinity));
    }

    [Theory]
    [InlineData(1e4f, -1e4f)]
    [InlineData(1e4f, 1e4f)]
    [InlineData(-1e4f, -1e4f)]
    [InlineData(1e4f, 9990f)]
    public void LargeLogSumExpsStayFiniteAndExact(float la, float lb)
    {
        var random = new Random(29);
        var (oa, _) = Partial(random, 64, 1);
        var (ob, _) = Partial(random, 64, 1);
        var (o, l) = Merge((oa, la), (ob, lb));

        double max = Math.Max(la, lb);
        double exactL = max + Math.Log(Math.Exp(la - max) + Math.Exp(lb - max));
        var exact = new double[64];
        var magnitude = new double[64];
        for (int c = 0; c < 64; c++)
        {
            exact[c] = Math.Exp(la - exactL) * oa[c] + Math.Exp(lb - exactL) * ob[c];
            magnitude[c] = Math.Exp(la - exactL) * Math.Abs(oa[c]) + Math.Exp(lb - exactL) * Math.Abs(ob[c]);
        }
        Assert.True(float.IsFinite(l));
        Assert.All(o, value => Assert.True(float.IsFinite(value)));
        // L itself is rounded to fp32 (one ulp at 1e4 is 1e-3), but the weights are not taken from it.
        Assert.True(Math.Abs(l - exactL) <= 1e-3, $"L {l} vs {exactL}");
        Assert.True(RelativeError(o, exact, magnitude) <= Tolerance, $"O error {RelativeError(o, exact, magnitude):E2}");
    }

    [Fact]
    public void TinyShareOfTheSmallerPartialIsKeptAccurately()
    {
        // e^{−30} ≈ 9.4e-14 is far below an ulp of 1: ln(1 + x) must not round to 0 relative to the difference.
        float l = AttentionMerge.CombineLse(0f, -30f);
        // Float64's own 1 + x would lose the same digits; ln(1 + x) = x − x²/2 + … is exact here.
        double x = Math.Exp(-30);
        double exact = x - x * x / 2;
        Assert.True(Math.Abs(l - exact) <= 1e-6 * exact, $"{l} vs {exact}");
    }

    [Fact]
    public void NaNPropagates()
    {
        var row = new float[] { 1, 2, 3 };
        float lse = 0.5f;
        AttentionMerge.MergeRow(row, ref lse, new float[] { 1, 1, 1 }, float.NaN);
        Assert.True(float.IsNaN(lse));
    }

    [Fact]
    public void MergeRowsMergesEveryRowAndChecksLengths()
    {
        var random = new Random(41);
        const int rows = 5, headDim = 19;
        var runningO = new float[rows * headDim];
        var runningL = new float[rows];
        var partialO = new float[rows * headDim];
        var partialL = new float[rows];
        var expectedO = new float[rows * headDim];
        var expectedL = new float[rows];
        for (int row = 0; row < rows; row++)
        {
            var (oa, la) = Partial(random, headDim, 3);
            var (ob, lb) = Partial(random, headDim, 3);
            if (row == 2)
            {
                Array.Clear(ob);
                lb = float.NegativeInfinity;
            }
            oa.CopyTo(runningO, row * headDim);
            runningL[row] = la;
            ob.CopyTo(partialO, row * headDim);
            partialL[row] = lb;
            var (o, l) = Merge((oa, la), (ob, lb));
            o.CopyTo(expectedO, row * headDim);
            expectedL[row] = l;
        }
        AttentionMerge.MergeRows(runningO, runningL, partialO, partialL, headDim);
        Assert.Equal(expectedO, runningO);
        Assert.Equal(expectedL, runningL);

        Assert.Equal("partialLse", Assert.Throws<ArgumentException>(() => AttentionMerge.MergeRows(runningO, runningL, partialO, partialL.AsSpan(1), headDim)).ParamName);
        Assert.Equal("runningO", Assert.Throws<ArgumentException>(() => AttentionMerge.MergeRows(runningO.AsSpan(1), runningL, partialO, partialL, headDim)).ParamName);
        Assert.Equal("partialO", Assert.Throws<ArgumentException>(() => AttentionMerge.MergeRows(runningO, runningL, partialO.AsSpan(1), partialL, headDim)).ParamName);
        float single = 0;
        Assert.Equal("partialO", Assert.Throws<ArgumentException>(() => AttentionMerge.MergeRow(runningO.AsSpan(0, 3), ref single, partialO.AsSpan(0, 4), 0)).ParamName);
    }

    /// <summary>A random normalised partial: O in [−1, 1), L in [−spread, spread).</summary>
    private static (float[] O, float L) Partial(Random random, int headDim, float spread)
    {
        var o = new float[headDim];
        for (int c = 0; c < headDim; c++)
        {
            o[c] = random.NextSingle() * 2 - 1;
        }
        return (o, spread * (random.NextSingle() * 2 - 1));
    }

    /// <summary>a ⊕ b without touching either.</summary>
    private static (float[] O, float L) Merge((float[] O, float L) a, (float[] O, float L) b)
    {
        var o = (float[])a.O.Clone();
        float l = a.L;
        AttentionMerge.MergeRow(o, ref l, b.O, b.L);
        Assert.Equal(AttentionMerge.CombineLse(a.L, b.L), l);
        return (o, l);
    }

    /// <summary>
    /// ‖actual − expected‖ / ‖magnitude‖, magnitude = Σ weight·|O| per value: relative to the size of the
    /// terms summed, so that a result that happens to cancel to near 0 is not held to an impossible bound.
    /// </summary>
    private static double RelativeError(float[] actual, double[] expected, double[] magnitude)
    {
        double diff = 0, norm = 0;
        for (int i = 0; i < actual.Length; i++)
        {
            diff += (actual[i] - expected[i]) * (actual[i] - expected[i]);
            norm += magnitude[i] * magnitude[i];
        }
        return Math.Sqrt(diff / Math.Max(norm, double.Epsilon));
    }
}
