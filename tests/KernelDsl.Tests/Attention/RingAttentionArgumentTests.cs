using System;
using KernelDsl.Ring;
using Xunit;

namespace KernelDsl.Tests.Attention;

/// <summary>
/// The generated CPU attention entry points name their own argument when the shape is invalid (heads, kvHeads,
/// sequenceLength, lse), never the options object the driver underneath takes, and write nothing.
/// </summary>
public sealed class RingAttentionArgumentTests
{
    private const int Heads = 4, SequenceLength = 8, HeadDim = 64;

    private readonly float[] q = Random(Heads * SequenceLength * HeadDim, 1);
    private readonly float[] kv = Random(Heads * SequenceLength * HeadDim, 2);
    private readonly float[] o = new float[Heads * SequenceLength * HeadDim];
    private readonly float[] lse = new float[Heads * SequenceLength];

    public RingAttentionArgumentTests()
    {
        Array.Fill(o, float.NaN);
        Array.Fill(lse, float.NaN);
    }

    public static TheoryData<int, int, int, string> InvalidShapes() => new()
    {
        { Heads, 3, SequenceLength, "kvHeads" },
        { Heads, 0, SequenceLength, "kvHeads" },
        { 0, 1, SequenceLength, "heads" },
        { Heads, 2, -1, "sequenceLength" },
    };

    [Theory]
    [MemberData(nameof(InvalidShapes))]
    public void ForwardNamesTheArgument(int heads, int kvHeads, int sequenceLength, string parameter)
    {
        var ring = InProcessRing.Create(1)[0];
        Rejected(parameter, () => F32CausalZigzag.Forward(ring, heads, kvHeads, sequenceLength, q, kv.AsSpan(0, KvLength(kvHeads)), kv.AsSpan(0, KvLength(kvHeads)), o, lse));
    }

    [Theory]
    [MemberData(nameof(InvalidShapes))]
    public void ForwardStepNamesTheArgument(int heads, int kvHeads, int sequenceLength, string parameter)
        => Rejected(parameter, () => F32CausalZigzag.ForwardStep(heads, kvHeads, sequenceLength, 1, 0, 0, q, kv.AsSpan(0, KvLength(kvHeads)), kv.AsSpan(0, KvLength(kvHeads)), o, lse));

    [Theory]
    [MemberData(nameof(InvalidShapes))]
    public void AttentionNamesTheArgument(int heads, int kvHeads, int sequenceLength, string parameter)
        => Rejected(parameter, () => F32CausalZigzag.Attention(q, kv.AsSpan(0, KvLength(kvHeads)), kv.AsSpan(0, KvLength(kvHeads)), o, lse, heads, kvHeads, sequenceLength));

    /// <summary>A short lse is named lse, not the running state the one-device path keeps in it.</summary>
    [Fact]
    public void AttentionNamesAShortLse()
        => Rejected("lse", () => F32CausalZigzag.Attention(q, kv, kv, o, lse.AsSpan(1), Heads, Heads, SequenceLength));

    private void Rejected(string parameter, Action call)
    {
        var exception = Assert.Throws<ArgumentException>(call);
        Assert.Equal(parameter, exception.ParamName);
        Assert.All(o, value => Assert.True(float.IsNaN(value), "o was written"));
        Assert.All(lse, value => Assert.True(float.IsNaN(value), "lse was written"));
    }

    /// <summary>K or V of <paramref name="kvHeads"/> heads (any length when the count is invalid).</summary>
    private static int KvLength(int kvHeads) => Math.Clamp(kvHeads, 1, Heads) * SequenceLength * HeadDim;

    private static float[] Random(int length, int seed)
    {
        var random = new Random(seed);
        var values = new float[length];
        for (int i = 0; i < length; i++)
        {
            values[i] = (float)(2 * random.NextDouble() - 1);
        }
        return values;
    }
}
