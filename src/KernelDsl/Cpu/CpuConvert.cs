using System;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace KernelDsl.Cpu;

/// <summary>
/// Element conversions of the CPU fallback, which always computes in fp32: 16-bit operands are
/// widened while packing (<c>ToSingle</c>, <c>LoadVector…</c> and <c>Widen</c>, called by <see cref="GemmPacking"/> and the attention step),
/// and a 16-bit output is read (β·C, bias) and rounded to nearest even on its final store by the driver.
/// </summary>
/// <remarks>
/// .NET has no vector conversion between <see cref="Half"/> and <see cref="float"/> (and no F16C
/// intrinsics), so the conversions here work on the bits with integer vector operations. They give
/// exactly the values of the scalar <c>(float)</c> and <c>(Half)</c> / <c>(BFloat16)</c> conversions,
/// except that a NaN's payload may differ (it stays a NaN).
/// Widening a binary16 h to binary32: move exponent and mantissa up 13 bits and rebias the exponent
/// by 127 − 15 = 112; an Inf/NaN gets the exponent 255 (rebias by 112 once more); a subnormal
/// (exponent 0) is formed as 2⁻¹⁴·(1 + m/1024) and then 2⁻¹⁴ is subtracted, which normalises it exactly.
/// A bfloat16 is the upper half of a binary32: a 16-bit shift.
/// Every helper is inlined (<see cref="MethodImplOptions.AggressiveInlining"/>): left to itself the JIT
/// calls the vector helpers out of line, which made widening a packed fp16 panel about five times slower.
/// </remarks>
public static class CpuConvert
{
    private const uint HalfExponentMask = 0x7C00u << 13;         // binary16 exponent field, moved to binary32's position
    private const uint HalfToSingleBias = (127u - 15u) << 23;    // exponent rebias binary16 → binary32
    private const uint HalfSubnormalMagic = 113u << 23;          // 2⁻¹⁴ as binary32 bits

    /// <summary>
    /// Widens one <see cref="Half"/> exactly, as <c>(float)value</c> does but in about half the time
    /// (the transposing packing path converts element by element).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float ToSingle(Half value)
    {
        uint h = BitConverter.HalfToUInt16Bits(value);
        uint bits = (h & 0x7FFFu) << 13;
        uint exponent = bits & HalfExponentMask;
        bits += HalfToSingleBias;
        if (exponent == HalfExponentMask)
        {
            bits += HalfToSingleBias;  // Inf or NaN
        }
        else if (exponent == 0)
        {
            // Zero or subnormal.
            bits = BitConverter.SingleToUInt32Bits(BitConverter.UInt32BitsToSingle(bits + (1u << 23)) - BitConverter.UInt32BitsToSingle(HalfSubnormalMagic));
        }
        return BitConverter.UInt32BitsToSingle(bits | ((h & 0x8000u) << 16));
    }

    /// <summary>Widens one <see cref="BFloat16"/> exactly (a 16-bit shift).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float ToSingle(BFloat16 value) => (float)value;

    /// <summary>Widens 16 <see cref="Half"/> values at <paramref name="source"/> + <paramref name="elementOffset"/> to floats.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> LoadVector512(ref readonly Half source, nuint elementOffset)
        => HalfToSingle(Vector512.WidenLower(Vector256.LoadUnsafe(in Bits(in source), elementOffset).ToVector512Unsafe()));

    /// <summary>Widens 8 <see cref="Half"/> values at <paramref name="source"/> + <paramref name="elementOffset"/> to floats.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> LoadVector256(ref readonly Half source, nuint elementOffset)
        => HalfToSingle(Vector256.WidenLower(Vector128.LoadUnsafe(in Bits(in source), elementOffset).ToVector256Unsafe()));

    /// <summary>Widens 4 <see cref="Half"/> values at <paramref name="source"/> + <paramref name="elementOffset"/> to floats.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> LoadVector128(ref readonly Half source, nuint elementOffset)
        => HalfToSingle(Vector128.WidenLower(Load4(in Bits(in source), elementOffset)));

    /// <summary>Widens 16 <see cref="BFloat16"/> values at <paramref name="source"/> + <paramref name="elementOffset"/> to floats.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> LoadVector512(ref readonly BFloat16 source, nuint elementOffset)
        => (Vector512.WidenLower(Vector256.LoadUnsafe(in Bits(in source), elementOffset).ToVector512Unsafe()) << 16).AsSingle();

    /// <summary>Widens 8 <see cref="BFloat16"/> values at <paramref name="source"/> + <paramref name="elementOffset"/> to floats.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> LoadVector256(ref readonly BFloat16 source, nuint elementOffset)
        => (Vector256.WidenLower(Vector128.LoadUnsafe(in Bits(in source), elementOffset).ToVector256Unsafe()) << 16).AsSingle();

    /// <summary>Widens 4 <see cref="BFloat16"/> values at <paramref name="source"/> + <paramref name="elementOffset"/> to floats.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> LoadVector128(ref readonly BFloat16 source, nuint elementOffset)
        => (Vector128.WidenLower(Load4(in Bits(in source), elementOffset)) << 16).AsSingle();

    /// <summary>One stored element (float, <see cref="Half"/> or <see cref="BFloat16"/>) as a float; the type test is a JIT-time constant.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static float ToSingle<T>(T value) where T : unmanaged
        => typeof(T) == typeof(float) ? Unsafe.As<T, float>(ref value)
        : typeof(T) == typeof(Half) ? ToSingle(Unsafe.As<T, Half>(ref value))
        : ToSingle(Unsafe.As<T, BFloat16>(ref value));

    /// <summary>16 stored elements at <paramref name="source"/> + <paramref name="elementOffset"/> as floats.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector512<float> LoadVector512<T>(ref readonly T source, nuint elementOffset) where T : unmanaged
        => typeof(T) == typeof(float) ? Vector512.LoadUnsafe(in Unsafe.As<T, float>(ref Unsafe.AsRef(in source)), elementOffset)
        : typeof(T) == typeof(Half) ? LoadVector512(in Unsafe.As<T, Half>(ref Unsafe.AsRef(in source)), elementOffset)
        : LoadVector512(in Unsafe.As<T, BFloat16>(ref Unsafe.AsRef(in source)), elementOffset);

    /// <summary>8 stored elements at <paramref name="source"/> + <paramref name="elementOffset"/> as floats.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector256<float> LoadVector256<T>(ref readonly T source, nuint elementOffset) where T : unmanaged
        => typeof(T) == typeof(float) ? Vector256.LoadUnsafe(in Unsafe.As<T, float>(ref Unsafe.AsRef(in source)), elementOffset)
        : typeof(T) == typeof(Half) ? LoadVector256(in Unsafe.As<T, Half>(ref Unsafe.AsRef(in source)), elementOffset)
        : LoadVector256(in Unsafe.As<T, BFloat16>(ref Unsafe.AsRef(in source)), elementOffset);

    /// <summary>4 stored elements at <paramref name="source"/> + <paramref name="elementOffset"/> as floats.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector128<float> LoadVector128<T>(ref readonly T source, nuint elementOffset) where T : unmanaged
        => typeof(T) == typeof(float) ? Vector128.LoadUnsafe(in Unsafe.As<T, float>(ref Unsafe.AsRef(in source)), elementOffset)
        : typeof(T) == typeof(Half) ? LoadVector128(in Unsafe.As<T, Half>(ref Unsafe.AsRef(in source)), elementOffset)
        : LoadVector128(in Unsafe.As<T, BFloat16>(ref Unsafe.AsRef(in source)), elementOffset);

    /// <summary>
    /// Widens <paramref name="count"/> contiguous stored elements at <paramref name="source"/> into floats at
    /// <paramref name="destination"/>, with the widest vectors this machine accelerates, then one by one.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void Widen<T>(ref readonly T source, ref float destination, int count) where T : unmanaged
    {
        int i = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            for (; i + 16 <= count; i += 16)
            {
                LoadVector512(in source, (nuint)i).StoreUnsafe(ref destination, (nuint)i);
            }
        }
        if (Vector256.IsHardwareAccelerated)
        {
            for (; i + 8 <= count; i += 8)
            {
                LoadVector256(in source, (nuint)i).StoreUnsafe(ref destination, (nuint)i);
            }
        }
        if (Vector128.IsHardwareAccelerated)
        {
            for (; i + 4 <= count; i += 4)
            {
                LoadVector128(in source, (nuint)i).StoreUnsafe(ref destination, (nuint)i);
            }
        }
        for (; i < count; i++)
        {
            Unsafe.Add(ref destination, i) = ToSingle(Unsafe.Add(ref Unsafe.AsRef(in source), i));
        }
    }

    /// <summary>
    /// Widens <paramref name="source"/> (float, <see cref="Half"/> or <see cref="BFloat16"/>) into
    /// <paramref name="destination"/>, which is at least as long.
    /// </summary>
    internal static void ToSingle<T>(ReadOnlySpan<T> source, Span<float> destination) where T : unmanaged
    {
        if (typeof(T) == typeof(float))
        {
            MemoryMarshal.Cast<T, float>(source).CopyTo(destination);
            return;
        }
        RequireElement<T>();
        ref ushort from = ref Unsafe.As<T, ushort>(ref MemoryMarshal.GetReference(source));
        ref float to = ref MemoryMarshal.GetReference(destination);
        int i = 0;
        if (Vector128.IsHardwareAccelerated)
        {
            for (; i <= source.Length - 4; i += 4)
            {
                var bits = Vector128.WidenLower(Load4(in from, (nuint)i));
                var floats = typeof(T) == typeof(Half) ? HalfToSingle(bits) : (bits << 16).AsSingle();
                floats.StoreUnsafe(ref to, (nuint)i);
            }
        }
        for (; i < source.Length; i++)
        {
            Unsafe.Add(ref to, i) = typeof(T) == typeof(Half)
                ? ToSingle(Unsafe.As<ushort, Half>(ref Unsafe.Add(ref from, i)))
                : ToSingle(Unsafe.As<ushort, BFloat16>(ref Unsafe.Add(ref from, i)));
        }
    }

    /// <summary>
    /// Rounds <paramref name="source"/> to nearest even into <paramref name="destination"/> (float,
    /// <see cref="Half"/> or <see cref="BFloat16"/>), which is at least as long.
    /// </summary>
    internal static void FromSingle<T>(ReadOnlySpan<float> source, Span<T> destination) where T : unmanaged
    {
        if (typeof(T) == typeof(float))
        {
            source.CopyTo(MemoryMarshal.Cast<T, float>(destination));
            return;
        }
        RequireElement<T>();
        ref float from = ref MemoryMarshal.GetReference(source);
        ref ushort to = ref Unsafe.As<T, ushort>(ref MemoryMarshal.GetReference(destination));
        int i = 0;
        if (Vector128.IsHardwareAccelerated)
        {
            for (; i <= source.Length - 8; i += 8)
            {
                var low = Vector128.LoadUnsafe(ref from, (nuint)i);
                var high = Vector128.LoadUnsafe(ref from, (nuint)i + 4);
                var bits = typeof(T) == typeof(Half)
                    ? Vector128.Narrow(SingleToHalf(low), SingleToHalf(high))
                    : Vector128.Narrow(SingleToBFloat16(low), SingleToBFloat16(high));
                bits.StoreUnsafe(ref to, (nuint)i);
            }
        }
        for (; i < source.Length; i++)
        {
            float value = Unsafe.Add(ref from, i);
            Unsafe.Add(ref to, i) = typeof(T) == typeof(Half)
                ? BitConverter.HalfToUInt16Bits((Half)value)
                : ((BFloat16)value).Bits;
        }
    }

    /// <summary>binary16 bits (in the low half of each lane) to binary32; see the remarks.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> HalfToSingle(Vector512<uint> h)
    {
        var bits = (h & Vector512.Create(0x7FFFu)) << 13;
        var exponent = bits & Vector512.Create(HalfExponentMask);
        bits += Vector512.Create(HalfToSingleBias);
        bits += Vector512.Equals(exponent, Vector512.Create(HalfExponentMask)) & Vector512.Create(HalfToSingleBias);
        var subnormal = ((bits + Vector512.Create(1u << 23)).AsSingle() - Vector512.Create(HalfSubnormalMagic).AsSingle()).AsUInt32();
        bits = Vector512.ConditionalSelect(Vector512.Equals(exponent, Vector512<uint>.Zero), subnormal, bits);
        return (bits | ((h & Vector512.Create(0x8000u)) << 16)).AsSingle();
    }

    /// <inheritdoc cref="HalfToSingle(Vector512{uint})"/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> HalfToSingle(Vector256<uint> h)
    {
        var bits = (h & Vector256.Create(0x7FFFu)) << 13;
        var exponent = bits & Vector256.Create(HalfExponentMask);
        bits += Vector256.Create(HalfToSingleBias);
        bits += Vector256.Equals(exponent, Vector256.Create(HalfExponentMask)) & Vector256.Create(HalfToSingleBias);
        var subnormal = ((bits + Vector256.Create(1u << 23)).AsSingle() - Vector256.Create(HalfSubnormalMagic).AsSingle()).AsUInt32();
        bits = Vector256.ConditionalSelect(Vector256.Equals(exponent, Vector256<uint>.Zero), subnormal, bits);
        return (bits | ((h & Vector256.Create(0x8000u)) << 16)).AsSingle();
    }

    /// <inheritdoc cref="HalfToSingle(Vector512{uint})"/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<float> HalfToSingle(Vector128<uint> h)
    {
        var bits = (h & Vector128.Create(0x7FFFu)) << 13;
        var exponent = bits & Vector128.Create(HalfExponentMask);
        bits += Vector128.Create(HalfToSingleBias);
        bits += Vector128.Equals(exponent, Vector128.Create(HalfExponentMask)) & Vector128.Create(HalfToSingleBias);
        var subnormal = ((bits + Vector128.Create(1u << 23)).AsSingle() - Vector128.Create(HalfSubnormalMagic).AsSingle()).AsUInt32();
        bits = Vector128.ConditionalSelect(Vector128.Equals(exponent, Vector128<uint>.Zero), subnormal, bits);
        return (bits | ((h & Vector128.Create(0x8000u)) << 16)).AsSingle();
    }

    /// <summary>
    /// binary32 to binary16 bits (low half of each lane), round to nearest even. |x| ≥ 65536 (and every
    /// value that rounds past 65504) becomes ±Inf, NaN a quiet NaN. Below 2⁻¹⁴ the result is subnormal:
    /// adding 0.5 lines the binary16 subnormal step 2⁻²⁴ up with the last mantissa bit of a binary32 in
    /// [0.5, 1), so the hardware's own round-to-nearest-even does the rounding. Otherwise rebias the
    /// exponent and round the 13 dropped bits with + 0xFFF + (lowest kept bit).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<uint> SingleToHalf(Vector128<float> value)
    {
        var bits = value.AsUInt32();
        var sign = bits & Vector128.Create(0x8000_0000u);
        var magnitude = bits ^ sign;
        var special = Vector128.ConditionalSelect(
            Vector128.GreaterThan(magnitude, Vector128.Create(0x7F80_0000u)), Vector128.Create(0x7E00u), Vector128.Create(0x7C00u));
        const uint OneHalf = 126u << 23;  // 0.5f
        var subnormal = (magnitude.AsSingle() + Vector128.Create(OneHalf).AsSingle()).AsUInt32() - Vector128.Create(OneHalf);
        var normal = (magnitude + Vector128.Create(unchecked((uint)((15 - 127) << 23)) + 0xFFFu) + ((magnitude >> 13) & Vector128<uint>.One)) >> 13;
        var result = Vector128.ConditionalSelect(Vector128.LessThan(magnitude, Vector128.Create(113u << 23)), subnormal, normal);
        result = Vector128.ConditionalSelect(Vector128.GreaterThanOrEqual(magnitude, Vector128.Create((127u + 16u) << 23)), special, result);
        return result | (sign >> 16);
    }

    /// <summary>binary32 to bfloat16 bits (low half of each lane), round to nearest even, NaN stays a quiet NaN (as <see cref="BFloat16"/>'s conversion).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<uint> SingleToBFloat16(Vector128<float> value)
    {
        var bits = value.AsUInt32();
        var rounded = (bits + Vector128.Create(0x7FFFu) + ((bits >> 16) & Vector128<uint>.One)) >> 16;
        var nan = (bits >> 16) | Vector128.Create(0x0040u);
        return Vector128.ConditionalSelect(Vector128.Equals(value, value).AsUInt32(), rounded, nan);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ref readonly ushort Bits(ref readonly Half source) => ref Unsafe.As<Half, ushort>(ref Unsafe.AsRef(in source));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ref readonly ushort Bits(ref readonly BFloat16 source) => ref Unsafe.As<BFloat16, ushort>(ref Unsafe.AsRef(in source));

    /// <summary>Four 16-bit values (64 bits) into the low half of a vector.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<ushort> Load4(ref readonly ushort source, nuint elementOffset)
        => Vector128.CreateScalarUnsafe(Unsafe.ReadUnaligned<ulong>(in Unsafe.As<ushort, byte>(ref Unsafe.Add(ref Unsafe.AsRef(in source), elementOffset)))).AsUInt16();

    /// <summary>Throws unless <typeparamref name="T"/> is an element type of the CPU GEMM: float, <see cref="Half"/>, <see cref="BFloat16"/>.</summary>
    internal static void RequireElement<T>()
    {
        if (typeof(T) != typeof(float) && typeof(T) != typeof(Half) && typeof(T) != typeof(BFloat16))
        {
            throw new NotSupportedException($"The CPU GEMM works on float, System.Half and KernelDsl.BFloat16 elements, not {typeof(T)}.");
        }
    }
}
