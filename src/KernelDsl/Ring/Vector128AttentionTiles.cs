using System;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using KernelDsl.Cpu;

namespace KernelDsl.Ring;

/// <summary>
/// The attention register tiles for 128-bit vectors (SSE: 16 xmm registers; NEON has 32), 4 query rows per block. S: 4 rows × 2
/// vectors of keys = 8 accumulators, with 2 Kᵀ loads and one Q broadcast 11 registers live per head dimension (a
/// third vector would need 16, leaving the allocator nothing); O: 4 rows × 2 vectors of head dimensions, the same per
/// key, in d / 8 passes. The block's S/P (4×128 floats, 2 KiB) stays in L1.
/// </summary>
internal readonly struct Vector128AttentionTiles<TScores> : ICpuAttentionTiles
    where TScores : IAttentionScores
{
    private const int Lanes = 4;

    /// <summary>Keys per tile: S rows are this far apart.</summary>
    private const int Keys = 128;

    public static CpuIsa Isa => CpuIsa.Vector128;

    public static int QRows => 4;

    public static int KvRows => Keys;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Scores(ref readonly float queries, ref readonly float keys, int count, ref float scores)
    {
        int headDim = TScores.HeadDim;
        for (int j0 = 0; j0 < count; j0 += 2 * Lanes)
        {
            // sR_J: vector J of this group's keys for query row R.
            Vector128<float> s0_0 = default, s0_1 = default, s1_0 = default, s1_1 = default, s2_0 = default, s2_1 = default, s3_0 = default, s3_1 = default;
            ref float k = ref Unsafe.Add(ref Unsafe.AsRef(in keys), j0);
            ref float q = ref Unsafe.AsRef(in queries);
            for (int c = 0; c < headDim; c++)
            {
                var k0 = Vector128.LoadUnsafe(ref k, 0);
                var k1 = Vector128.LoadUnsafe(ref k, Lanes);
                var q0 = Vector128.Create(q);
                s0_0 = Vector128.FusedMultiplyAdd(q0, k0, s0_0); s0_1 = Vector128.FusedMultiplyAdd(q0, k1, s0_1);
                var q1 = Vector128.Create(Unsafe.Add(ref q, 1 * headDim));
                s1_0 = Vector128.FusedMultiplyAdd(q1, k0, s1_0); s1_1 = Vector128.FusedMultiplyAdd(q1, k1, s1_1);
                var q2 = Vector128.Create(Unsafe.Add(ref q, 2 * headDim));
                s2_0 = Vector128.FusedMultiplyAdd(q2, k0, s2_0); s2_1 = Vector128.FusedMultiplyAdd(q2, k1, s2_1);
                var q3 = Vector128.Create(Unsafe.Add(ref q, 3 * headDim));
                s3_0 = Vector128.FusedMultiplyAdd(q3, k0, s3_0); s3_1 = Vector128.FusedMultiplyAdd(q3, k1, s3_1);
                k = ref Unsafe.Add(ref k, KvRows);  // Kᵀ row c + 1
                q = ref Unsafe.Add(ref q, 1);
            }
            ref float s = ref Unsafe.Add(ref scores, j0);
            Store2(ref s, s0_0, s0_1);
            Store2(ref Unsafe.Add(ref s, 1 * Keys), s1_0, s1_1);
            Store2(ref Unsafe.Add(ref s, 2 * Keys), s2_0, s2_1);
            Store2(ref Unsafe.Add(ref s, 3 * Keys), s3_0, s3_1);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Softmax(ref float scores, ref float max, ref float sum, ref float rescale)
    {
        // rR: row R's largest score so far, lane by lane.
        var r0 = Vector128.LoadUnsafe(ref scores, 0);
        var r1 = Vector128.LoadUnsafe(ref scores, 1 * Keys);
        var r2 = Vector128.LoadUnsafe(ref scores, 2 * Keys);
        var r3 = Vector128.LoadUnsafe(ref scores, 3 * Keys);
        for (int j = Lanes; j < KvRows; j += Lanes)
        {
            ref float column = ref Unsafe.Add(ref scores, j);
            r0 = Vector128.MaxNative(r0, Vector128.LoadUnsafe(ref column, 0));
            r1 = Vector128.MaxNative(r1, Vector128.LoadUnsafe(ref column, 1 * Keys));
            r2 = Vector128.MaxNative(r2, Vector128.LoadUnsafe(ref column, 2 * Keys));
            r3 = Vector128.MaxNative(r3, Vector128.LoadUnsafe(ref column, 3 * Keys));
        }
        // mR: the new running max.
        float old0 = Unsafe.Add(ref max, 0), m0 = MathF.Max(old0, MaxAcross(r0));
        float old1 = Unsafe.Add(ref max, 1), m1 = MathF.Max(old1, MaxAcross(r1));
        float old2 = Unsafe.Add(ref max, 2), m2 = MathF.Max(old2, MaxAcross(r2));
        float old3 = Unsafe.Add(ref max, 3), m3 = MathF.Max(old3, MaxAcross(r3));
        // p = 2^{s − m}; lR: row R's Σp, lane by lane.
        var shift0 = Vector128.Create(AttentionSoftmax.Shift(m0));
        var shift1 = Vector128.Create(AttentionSoftmax.Shift(m1));
        var shift2 = Vector128.Create(AttentionSoftmax.Shift(m2));
        var shift3 = Vector128.Create(AttentionSoftmax.Shift(m3));
        Vector128<float> l0 = default, l1 = default, l2 = default, l3 = default;
        for (int j = 0; j < KvRows; j += Lanes)
        {
            ref float column = ref Unsafe.Add(ref scores, j);
            l0 += Probabilities(ref column, shift0);
            l1 += Probabilities(ref Unsafe.Add(ref column, 1 * Keys), shift1);
            l2 += Probabilities(ref Unsafe.Add(ref column, 2 * Keys), shift2);
            l3 += Probabilities(ref Unsafe.Add(ref column, 3 * Keys), shift3);
        }
        AttentionSoftmax.Update(ref max, ref sum, ref rescale, 0, old0, m0, Vector128.Sum(l0));
        AttentionSoftmax.Update(ref max, ref sum, ref rescale, 1, old1, m1, Vector128.Sum(l1));
        AttentionSoftmax.Update(ref max, ref sum, ref rescale, 2, old2, m2, Vector128.Sum(l2));
        AttentionSoftmax.Update(ref max, ref sum, ref rescale, 3, old3, m3, Vector128.Sum(l3));
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Accumulate(ref readonly float probabilities, ref readonly float values, int keys, ref readonly float rescale, ref float output)
    {
        int headDim = TScores.HeadDim;
        ref float alpha = ref Unsafe.AsRef(in rescale);
        var alpha0 = Vector128.Create(Unsafe.Add(ref alpha, 0));
        var alpha1 = Vector128.Create(Unsafe.Add(ref alpha, 1));
        var alpha2 = Vector128.Create(Unsafe.Add(ref alpha, 2));
        var alpha3 = Vector128.Create(Unsafe.Add(ref alpha, 3));
        for (int c0 = 0; c0 < headDim; c0 += 2 * Lanes)
        {
            // oR_J: vector J of this pass for row R, rescaled by α_R as it is loaded.
            ref float out0 = ref Unsafe.Add(ref output, c0);
            ref float out1 = ref Unsafe.Add(ref out0, headDim);
            ref float out2 = ref Unsafe.Add(ref out1, headDim);
            ref float out3 = ref Unsafe.Add(ref out2, headDim);
            Vector128<float> o0_0 = Vector128.LoadUnsafe(ref out0, 0) * alpha0, o0_1 = Vector128.LoadUnsafe(ref out0, Lanes) * alpha0;
            Vector128<float> o1_0 = Vector128.LoadUnsafe(ref out1, 0) * alpha1, o1_1 = Vector128.LoadUnsafe(ref out1, Lanes) * alpha1;
            Vector128<float> o2_0 = Vector128.LoadUnsafe(ref out2, 0) * alpha2, o2_1 = Vector128.LoadUnsafe(ref out2, Lanes) * alpha2;
            Vector128<float> o3_0 = Vector128.LoadUnsafe(ref out3, 0) * alpha3, o3_1 = Vector128.LoadUnsafe(ref out3, Lanes) * alpha3;
            ref float p = ref Unsafe.AsRef(in probabilities);
            ref float v = ref Unsafe.Add(ref Unsafe.AsRef(in values), c0);
            for (int j = 0; j < keys; j++)
            {
                var v0 = Vector128.LoadUnsafe(ref v, 0);
                var v1 = Vector128.LoadUnsafe(ref v, Lanes);
                var p0 = Vector128.Create(p);
                o0_0 = Vector128.FusedMultiplyAdd(p0, v0, o0_0); o0_1 = Vector128.FusedMultiplyAdd(p0, v1, o0_1);
                var p1 = Vector128.Create(Unsafe.Add(ref p, 1 * Keys));
                o1_0 = Vector128.FusedMultiplyAdd(p1, v0, o1_0); o1_1 = Vector128.FusedMultiplyAdd(p1, v1, o1_1);
                var p2 = Vector128.Create(Unsafe.Add(ref p, 2 * Keys));
                o2_0 = Vector128.FusedMultiplyAdd(p2, v0, o2_0); o2_1 = Vector128.FusedMultiplyAdd(p2, v1, o2_1);
                var p3 = Vector128.Create(Unsafe.Add(ref p, 3 * Keys));
                o3_0 = Vector128.FusedMultiplyAdd(p3, v0, o3_0); o3_1 = Vector128.FusedMultiplyAdd(p3, v1, o3_1);
                p = ref Unsafe.Add(ref p, 1);
                v = ref Unsafe.Add(ref v, headDim);  // V row j + 1
            }
            Store2(ref out0, o0_0, o0_1);
            Store2(ref out1, o1_0, o1_1);
            Store2(ref out2, o2_0, o2_1);
            Store2(ref out3, o3_0, o3_1);
        }
    }

    /// <summary>p = 2^{s + shift} over one vector of a row of S, in place; returns p.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<float> Probabilities(ref float row, Vector128<float> shift)
    {
        var p = CpuExp2.Exp2(Vector128.LoadUnsafe(ref row) + shift);
        p.StoreUnsafe(ref row);
        return p;
    }

    /// <summary>The largest of the 4 lanes.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float MaxAcross(Vector128<float> v4)
    {
        return float.MaxNative(float.MaxNative(v4[0], v4[1]), float.MaxNative(v4[2], v4[3]));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store2(ref float row, Vector128<float> x0, Vector128<float> x1)
    {
        x0.StoreUnsafe(ref row, 0);
        x1.StoreUnsafe(ref row, Lanes);
    }
}
