using System;
using System.Collections.Generic;
using System.Runtime.Intrinsics;
using KernelDsl.Cpu;
using Xunit;

namespace KernelDsl.Tests.Cpu;

/// <summary>
/// The vector conversions of the CPU fallback give exactly the scalar conversions' values: every
/// fp16 and bf16 value widened at each vector width, and floats at and around every rounding
/// boundary of both 16-bit types narrowed (ties, one float either side, overflow, subnormals).
/// NaN must stay NaN (its payload may differ).
/// </summary>
public sealed class CpuConvertTests
{
    private static readonly Half[] EveryHalf = Every(BitConverter.UInt16BitsToHalf);
    private static readonly BFloat16[] EveryBFloat16 = Every(BFloat16.FromBits);

    [Fact]
    public void EveryHalfWidensExactly()
    {
        var scalar = Array.ConvertAll(EveryHalf, h => (float)h);
        AssertSame(scalar, Array.ConvertAll(EveryHalf, CpuConvert.ToSingle), "ToSingle(Half)");
        AssertSame(scalar, Widen(EveryHalf, 16, (h, i) => CpuConvert.LoadVector512(in h[i], 0)), "LoadVector512");
        AssertSame(scalar, Widen(EveryHalf, 8, (h, i) => CpuConvert.LoadVector256(in h[i], 0)), "LoadVector256");
        AssertSame(scalar, Widen(EveryHalf, 4, (h, i) => CpuConvert.LoadVector128(in h[i], 0)), "LoadVector128");
        AssertSame(scalar, WidenSpan(EveryHalf), "ToSingle");
    }

    [Fact]
    public void EveryBFloat16WidensExactly()
    {
        var scalar = Array.ConvertAll(EveryBFloat16, h => (float)h);
        AssertSame(scalar, Array.ConvertAll(EveryBFloat16, CpuConvert.ToSingle), "ToSingle(BFloat16)");
        AssertSame(scalar, Widen(EveryBFloat16, 16, (h, i) => CpuConvert.LoadVector512(in h[i], 0)), "LoadVector512");
        AssertSame(scalar, Widen(EveryBFloat16, 8, (h, i) => CpuConvert.LoadVector256(in h[i], 0)), "LoadVector256");
        AssertSame(scalar, Widen(EveryBFloat16, 4, (h, i) => CpuConvert.LoadVector128(in h[i], 0)), "LoadVector128");
        AssertSame(scalar, WidenSpan(EveryBFloat16), "ToSingle");
    }

    [Fact]
    public void NarrowingToHalfRoundsLikeTheScalarConversion()
    {
        float[] values = Boundaries(Array.ConvertAll(EveryHalf, h => (float)h));
        var narrowed = new Half[values.Length];
        CpuConvert.FromSingle<Half>(values, narrowed);
        AssertSame(Array.ConvertAll(values, v => (float)(Half)v), Array.ConvertAll(narrowed, h => (float)h), "FromSingle<Half>", values);
    }

    [Fact]
    public void NarrowingToBFloat16RoundsLikeTheScalarConversion()
    {
        float[] values = Boundaries(Array.ConvertAll(EveryBFloat16, h => (float)h));
        var narrowed = new BFloat16[values.Length];
        CpuConvert.FromSingle<BFloat16>(values, narrowed);
        AssertSame(Array.ConvertAll(values, v => (float)(BFloat16)v), Array.ConvertAll(narrowed, h => (float)h), "FromSingle<BFloat16>", values);
    }

    [Fact]
    public void OtherElementTypesAreRejected()
        => Assert.Throws<NotSupportedException>(() => CpuConvert.FromSingle<double>([1f], new double[1]));

    private static T[] Every<T>(Func<ushort, T> fromBits)
    {
        var values = new T[65536];
        for (int bits = 0; bits < values.Length; bits++)
        {
            values[bits] = fromBits((ushort)bits);
        }
        return values;
    }

    private static float[] Widen<T>(T[] source, int lanes, Func<T[], int, Vector512<float>> load)
        => Widen(source, lanes, (s, i) => Floats(load(s, i)));

    private static float[] Widen<T>(T[] source, int lanes, Func<T[], int, Vector256<float>> load)
        => Widen(source, lanes, (s, i) => Floats(load(s, i)));

    private static float[] Widen<T>(T[] source, int lanes, Func<T[], int, Vector128<float>> load)
        => Widen(source, lanes, (s, i) => Floats(load(s, i)));

    private static float[] Widen<T>(T[] source, int lanes, Func<T[], int, float[]> load)
    {
        var result = new float[source.Length];
        for (int i = 0; i < source.Length; i += lanes)
        {
            load(source, i).CopyTo(result, i);
        }
        return result;
    }

    private static float[] Floats(Vector512<float> vector)
    {
        var values = new float[Vector512<float>.Count];
        vector.CopyTo(values);
        return values;
    }

    private static float[] Floats(Vector256<float> vector)
    {
        var values = new float[Vector256<float>.Count];
        vector.CopyTo(values);
        return values;
    }

    private static float[] Floats(Vector128<float> vector)
    {
        var values = new float[Vector128<float>.Count];
        vector.CopyTo(values);
        return values;
    }

    /// <summary>Through the driver's span conversion, with a length that leaves a scalar tail.</summary>
    private static float[] WidenSpan<T>(T[] source) where T : unmanaged
    {
        var result = new float[source.Length];
        CpuConvert.ToSingle<T>(source, result);
        CpuConvert.ToSingle<T>(source.AsSpan(1, 7), result.AsSpan(1, 7));
        return result;
    }

    /// <summary>
    /// Each value of a 16-bit type and, between neighbours, the exact midpoint and the floats just
    /// below and above it; plus values far outside the type's range, both signs.
    /// </summary>
    private static float[] Boundaries(float[] representable)
    {
        var values = new List<float> { 0f, float.Epsilon, float.MaxValue, float.PositiveInfinity, float.NaN, 1e-30f, 1e30f, 65504f, 65519.996f, 65520f, 65536f };
        for (int i = 0; i + 1 < 32768; i++)
        {
            float low = representable[i], high = representable[i + 1];  // the positive half, ascending
            if (!float.IsFinite(high))
            {
                break;
            }
            float middle = (float)(((double)low + high) / 2);
            values.AddRange([low, BitConverter.Int32BitsToSingle(BitConverter.SingleToInt32Bits(middle) - 1), middle, BitConverter.Int32BitsToSingle(BitConverter.SingleToInt32Bits(middle) + 1)]);
        }
        int count = values.Count;
        for (int i = 0; i < count; i++)
        {
            values.Add(-values[i]);
        }
        values.Add(1.5f);  // leaves a scalar tail after the vectors
        return values.ToArray();
    }

    private static void AssertSame(float[] expected, float[] actual, string what, float[]? inputs = null)
    {
        for (int i = 0; i < expected.Length; i++)
        {
            bool same = float.IsNaN(expected[i])
                ? float.IsNaN(actual[i])
                : BitConverter.SingleToInt32Bits(expected[i]) == BitConverter.SingleToInt32Bits(actual[i]);
            if (!same)
            {
                string input = inputs is null ? $"element {i}" : $"0x{BitConverter.SingleToUInt32Bits(inputs[i]):X8}";
                Assert.Fail($"{what}: {input} gave {actual[i]} (0x{BitConverter.SingleToUInt32Bits(actual[i]):X8}), expected {expected[i]} (0x{BitConverter.SingleToUInt32Bits(expected[i]):X8}).");
            }
        }
    }
}
