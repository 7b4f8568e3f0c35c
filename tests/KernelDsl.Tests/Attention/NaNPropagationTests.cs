using System;
using System.Collections.Generic;
using KernelDsl.Cpu;
using Xunit;
using Xunit.Abstractions;

namespace KernelDsl.Tests.Attention;

/// <summary>
/// A NaN score reaches exactly the outputs that depend on it, on every vector width: never a silent finite answer
/// (the softmax's row maxima use the platform's max, which may drop a NaN lane, so the NaN must arrive through its own
/// exponential and the row must not pass for one that saw no key), and never a NaN where the causal mask hides it.
/// </summary>
public sealed class NaNPropagationTests(ITestOutputHelper output)
{
    private const int Heads = 2, SequenceLength = 67, HeadDim = 64;

    public static IEnumerable<object[]> Isas() =>
        [[CpuIsa.Scalar], [CpuIsa.Vector128], [CpuIsa.Vector256], [CpuIsa.Vector512]];

    /// <summary>
    /// Causal fp32 attention with one NaN in Q (head 1, query 10: every score of that row) and one in K (head 0, key 20:
    /// one score of every row, masked for queries before position 20). Query 10 of head 1 and every query of head 0 at
    /// or after position 20 are NaN in O and L; every other output is finite. (Key 20 shares a block with queries 18
    /// and 19 in some widths' tiling, whose masked scores are replaced by −∞, not added to.)
    /// </summary>
    [Theory]
    [MemberData(nameof(Isas))]
    public void NaNReachesExactlyTheOutputsThatDependOnIt(CpuIsa isa)
    {
        if (!CpuFeatures.IsAccelerated(isa))
        {
            output.WriteLine($"Skipped: {isa} is not hardware-accelerated on this machine (CpuFeatures.Best = {CpuFeatures.Best}).");
            return;
        }
        const int seed = 6;
        output.WriteLine($"seed {seed}, {isa}");
        var random = new Random(seed);
        int count = Heads * SequenceLength * HeadDim;
        float[] q = Uniform(random, count), k = Uniform(random, count), v = Uniform(random, count);
        q[(1 * SequenceLength + 10) * HeadDim + 5] = float.NaN;
        k[(0 * SequenceLength + 20) * HeadDim + 3] = float.NaN;
        float[] o = new float[count], lse = new float[Heads * SequenceLength];

        F32CausalContiguous.Attention(q, k, v, o, lse, Heads, Heads, SequenceLength, isa);

        for (int head = 0; head < Heads; head++)
        {
            for (int row = 0; row < SequenceLength; row++)
            {
                bool expected = (head == 1 && row == 10) || (head == 0 && row >= 20);
                Assert.True(float.IsNaN(lse[head * SequenceLength + row]) == expected, $"L[{head}, {row}] = {lse[head * SequenceLength + row]}");
                for (int c = 0; c < HeadDim; c++)
                {
                    float value = o[(head * SequenceLength + row) * HeadDim + c];
                    Assert.True(float.IsNaN(value) == expected, $"O[{head}, {row}, {c}] = {value}, expected {(expected ? "NaN" : "finite")}");
                    Assert.False(float.IsInfinity(value), $"O[{head}, {row}, {c}] = {value}");
                }
                if (!expected)
                {
                    Assert.False(float.IsInfinity(lse[head * SequenceLength + row]), $"L[{head}, {row}] is infinite");
                }
            }
        }
    }

    private static float[] Uniform(Random random, int count)
    {
        var values = new float[count];
        for (int i = 0; i < count; i++)
        {
            values[i] = random.NextSingle() * 2 - 1;
        }
        return values;
    }
}
