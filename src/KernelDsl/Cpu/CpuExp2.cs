using System;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace KernelDsl.Cpu;

/// <summary>
/// 2^x for x ≤ 0 (a score minus its running max), on every vector width, relative error below 2e-7 (about 1.4 ulp):
/// x = n + f with n = round(x) and f ∈ [−½, ½]; 2^f by a degree-5 minimax polynomial with p(0) = 1 exactly, then
/// p·2^n. The portable form rounds by adding and subtracting 1.5·2²³ and builds 2^n in the exponent field; AVX-512 has
/// each step as one instruction (<c>vrndscaleps</c>, <c>vscalefps</c>), three vector operations fewer per vector
/// (docs/PERFORMANCE_NOTES.md note 12); <see cref="Avx512F.IsSupported"/> is a JIT-time constant, so a forced
/// Vector512 still runs (emulated) without AVX-512. x is clamped where 2^n is exactly 0 (−160 for vscalefps, −127 in
/// the exponent field), so a masked score (−∞) gives exactly 0. Cephes' degree 6 is 0.7 ulp for one more multiply-add.
/// </summary>
internal static class CpuExp2
{
    // 2^f on [−½, ½], highest degree first.
    private const float C5 = 1.3264726e-3f, C4 = 9.671513e-3f, C3 = 5.5507336e-2f, C2 = 0.24022242f, C1 = 0.693147f;

    /// <summary>1.5·2²³: adding it rounds a float of magnitude below 2²² to an integer, kept in the low mantissa bits.</summary>
    private const float RoundingShift = 12582912f;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Exp2(Vector512<float> x)
    {
        if (Avx512F.IsSupported)
        {
            x = Vector512.Max(x, Vector512.Create(-160f));
            var n = Avx512F.RoundScale(x, 0);  // to nearest
            return Avx512F.Scale(Polynomial(x - n), n);
        }
        x = Vector512.Max(x, Vector512.Create(-127f));
        var rounded = x + Vector512.Create(RoundingShift);
        var p = Polynomial(x - (rounded - Vector512.Create(RoundingShift)));
        // The bits of `rounded` are 0x4B400000 + n; n + 127 shifted into the exponent field is 2^n.
        return p * ((rounded.AsInt32() - Vector512.Create(0x4B400000 - 127)) << 23).AsSingle();
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Exp2(Vector256<float> x)
    {
        x = Vector256.Max(x, Vector256.Create(-127f));
        var rounded = x + Vector256.Create(RoundingShift);
        var p = Polynomial(x - (rounded - Vector256.Create(RoundingShift)));
        return p * ((rounded.AsInt32() - Vector256.Create(0x4B400000 - 127)) << 23).AsSingle();
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> Exp2(Vector128<float> x)
    {
        x = Vector128.Max(x, Vector128.Create(-127f));
        var rounded = x + Vector128.Create(RoundingShift);
        var p = Polynomial(x - (rounded - Vector128.Create(RoundingShift)));
        return p * ((rounded.AsInt32() - Vector128.Create(0x4B400000 - 127)) << 23).AsSingle();
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Exp2(float x)
    {
        x = MathF.Max(x, -127f);
        float rounded = x + RoundingShift;
        float p = Polynomial(x - (rounded - RoundingShift));
        return p * BitConverter.Int32BitsToSingle((BitConverter.SingleToInt32Bits(rounded) - (0x4B400000 - 127)) << 23);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Polynomial(Vector512<float> f)
    {
        var p = Vector512.FusedMultiplyAdd(Vector512.Create(C5), f, Vector512.Create(C4));
        p = Vector512.FusedMultiplyAdd(p, f, Vector512.Create(C3));
        p = Vector512.FusedMultiplyAdd(p, f, Vector512.Create(C2));
        p = Vector512.FusedMultiplyAdd(p, f, Vector512.Create(C1));
        return Vector512.FusedMultiplyAdd(p, f, Vector512<float>.One);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Polynomial(Vector256<float> f)
    {
        var p = Vector256.FusedMultiplyAdd(Vector256.Create(C5), f, Vector256.Create(C4));
        p = Vector256.FusedMultiplyAdd(p, f, Vector256.Create(C3));
        p = Vector256.FusedMultiplyAdd(p, f, Vector256.Create(C2));
        p = Vector256.FusedMultiplyAdd(p, f, Vector256.Create(C1));
        return Vector256.FusedMultiplyAdd(p, f, Vector256<float>.One);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<float> Polynomial(Vector128<float> f)
    {
        var p = Vector128.FusedMultiplyAdd(Vector128.Create(C5), f, Vector128.Create(C4));
        p = Vector128.FusedMultiplyAdd(p, f, Vector128.Create(C3));
        p = Vector128.FusedMultiplyAdd(p, f, Vector128.Create(C2));
        p = Vector128.FusedMultiplyAdd(p, f, Vector128.Create(C1));
        return Vector128.FusedMultiplyAdd(p, f, Vector128<float>.One);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float Polynomial(float f)
    {
        float p = MathF.FusedMultiplyAdd(C5, f, C4);
        p = MathF.FusedMultiplyAdd(p, f, C3);
        p = MathF.FusedMultiplyAdd(p, f, C2);
        p = MathF.FusedMultiplyAdd(p, f, C1);
        return MathF.FusedMultiplyAdd(p, f, 1f);
    }
}
