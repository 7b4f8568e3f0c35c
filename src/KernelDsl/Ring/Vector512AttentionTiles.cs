using System;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using KernelDsl.Cpu;

namespace KernelDsl.Ring;

/// <summary>
/// The attention register tiles for 512-bit vectors (AVX-512: 32 zmm registers), 6 query rows per block. S: 6 rows
/// × 4 vectors of keys = 24 accumulators, with 4 Kᵀ loads and one Q broadcast 29 registers live per head dimension;
/// O: 6 rows × 4 vectors of head dimensions, the same count per key, in d / 64 passes (then 1-vector passes for the
/// rest of d). The block's S/P (6×128 floats, 3 KiB) stays in L1.
/// </summary>
internal readonly struct Vector512AttentionTiles<TScores> : ICpuAttentionTiles
    where TScores : IAttentionScores
{
    private const int Lanes = 16;

    /// <summary>Keys per tile: S rows are this far apart.</summary>
    private const int Keys = 128;

    public static CpuIsa Isa => CpuIsa.Vector512;

    public static int QRows => 6;

    public static int KvRows => Keys;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Scores(ref readonly float queries, ref readonly float keys, int count, ref float scores)
    {
        int headDim = TScores.HeadDim;
        for (int j0 = 0; j0 < count; j0 += 4 * Lanes)
        {
            // sR_J: vector J of this group's 64 keys for query row R.
            Vector512<float> s0_0 = default, s0_1 = default, s0_2 = default, s0_3 = default, s1_0 = default, s1_1 = default, s1_2 = default, s1_3 = default;
            Vector512<float> s2_0 = default, s2_1 = default, s2_2 = default, s2_3 = default, s3_0 = default, s3_1 = default, s3_2 = default, s3_3 = default;
            Vector512<float> s4_0 = default, s4_1 = default, s4_2 = default, s4_3 = default, s5_0 = default, s5_1 = default, s5_2 = default, s5_3 = default;
            ref float k = ref Unsafe.Add(ref Unsafe.AsRef(in keys), j0);
            ref float q = ref Unsafe.AsRef(in queries);
            for (int c = 0; c < headDim; c++)
            {
                var k0 = Vector512.LoadUnsafe(ref k, 0);
                var k1 = Vector512.LoadUnsafe(ref k, Lanes);
                var k2 = Vector512.LoadUnsafe(ref k, 2 * Lanes);
                var k3 = Vector512.LoadUnsafe(ref k, 3 * Lanes);
                var q0 = Vector512.Create(q);
                s0_0 = Vector512.FusedMultiplyAdd(q0, k0, s0_0); s0_1 = Vector512.FusedMultiplyAdd(q0, k1, s0_1); s0_2 = Vector512.FusedMultiplyAdd(q0, k2, s0_2); s0_3 = Vector512.FusedMultiplyAdd(q0, k3, s0_3);
                var q1 = Vector512.Create(Unsafe.Add(ref q, 1 * headDim));
                s1_0 = Vector512.FusedMultiplyAdd(q1, k0, s1_0); s1_1 = Vector512.FusedMultiplyAdd(q1, k1, s1_1); s1_2 = Vector512.FusedMultiplyAdd(q1, k2, s1_2); s1_3 = Vector512.FusedMultiplyAdd(q1, k3, s1_3);
                var q2 = Vector512.Create(Unsafe.Add(ref q, 2 * headDim));
                s2_0 = Vector512.FusedMultiplyAdd(q2, k0, s2_0); s2_1 = Vector512.FusedMultiplyAdd(q2, k1, s2_1); s2_2 = Vector512.FusedMultiplyAdd(q2, k2, s2_2); s2_3 = Vector512.FusedMultiplyAdd(q2, k3, s2_3);
                var q3 = Vector512.Create(Unsafe.Add(ref q, 3 * headDim));
                s3_0 = Vector512.FusedMultiplyAdd(q3, k0, s3_0); s3_1 = Vector512.FusedMultiplyAdd(q3, k1, s3_1); s3_2 = Vector512.FusedMultiplyAdd(q3, k2, s3_2); s3_3 = Vector512.FusedMultiplyAdd(q3, k3, s3_3);
                var q4 = Vector512.Create(Unsafe.Add(ref q, 4 * headDim));
                s4_0 = Vector512.FusedMultiplyAdd(q4, k0, s4_0); s4_1 = Vector512.FusedMultiplyAdd(q4, k1, s4_1); s4_2 = Vector512.FusedMultiplyAdd(q4, k2, s4_2); s4_3 = Vector512.FusedMultiplyAdd(q4, k3, s4_3);
                var q5 = Vector512.Create(Unsafe.Add(ref q, 5 * headDim));
                s5_0 = Vector512.FusedMultiplyAdd(q5, k0, s5_0); s5_1 = Vector512.FusedMultiplyAdd(q5, k1, s5_1); s5_2 = Vector512.FusedMultiplyAdd(q5, k2, s5_2); s5_3 = Vector512.FusedMultiplyAdd(q5, k3, s5_3);
                k = ref Unsafe.Add(ref k, KvRows);  // Kᵀ row c + 1
                q = ref Unsafe.Add(ref q, 1);
            }
            ref float s = ref Unsafe.Add(ref scores, j0);
            Store4(ref s, s0_0, s0_1, s0_2, s0_3);
            Store4(ref Unsafe.Add(ref s, 1 * Keys), s1_0, s1_1, s1_2, s1_3);
            Store4(ref Unsafe.Add(ref s, 2 * Keys), s2_0, s2_1, s2_2, s2_3);
            Store4(ref Unsafe.Add(ref s, 3 * Keys), s3_0, s3_1, s3_2, s3_3);
            Store4(ref Unsafe.Add(ref s, 4 * Keys), s4_0, s4_1, s4_2, s4_3);
            Store4(ref Unsafe.Add(ref s, 5 * Keys), s5_0, s5_1, s5_2, s5_3);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Softmax(ref float scores, ref float max, ref float sum, ref float rescale)
    {
        // rR: row R's largest score so far, lane by lane.
        var r0 = Vector512.LoadUnsafe(ref scores, 0);
        var r1 = Vector512.LoadUnsafe(ref scores, 1 * Keys);
        var r2 = Vector512.LoadUnsafe(ref scores, 2 * Keys);
        var r3 = Vector512.LoadUnsafe(ref scores, 3 * Keys);
        var r4 = Vector512.LoadUnsafe(ref scores, 4 * Keys);
        var r5 = Vector512.LoadUnsafe(ref scores, 5 * Keys);
        for (int j = Lanes; j < KvRows; j += Lanes)
        {
            ref float column = ref Unsafe.Add(ref scores, j);
            r0 = Vector512.MaxNative(r0, Vector512.LoadUnsafe(ref column, 0));
            r1 = Vector512.MaxNative(r1, Vector512.LoadUnsafe(ref column, 1 * Keys));
            r2 = Vector512.MaxNative(r2, Vector512.LoadUnsafe(ref column, 2 * Keys));
            r3 = Vector512.MaxNative(r3, Vector512.LoadUnsafe(ref column, 3 * Keys));
            r4 = Vector512.MaxNative(r4, Vector512.LoadUnsafe(ref column, 4 * Keys));
            r5 = Vector512.MaxNative(r5, Vector512.LoadUnsafe(ref column, 5 * Keys));
        }
        // mR: the new running max; aR: α, which rescales what was accumulated against the old one.
        float old0 = Unsafe.Add(ref max, 0), m0 = MathF.Max(old0, MaxAcross(r0));
        float old1 = Unsafe.Add(ref max, 1), m1 = MathF.Max(old1, MaxAcross(r1));
        float old2 = Unsafe.Add(ref max, 2), m2 = MathF.Max(old2, MaxAcross(r2));
        float old3 = Unsafe.Add(ref max, 3), m3 = MathF.Max(old3, MaxAcross(r3));
        float old4 = Unsafe.Add(ref max, 4), m4 = MathF.Max(old4, MaxAcross(r4));
        float old5 = Unsafe.Add(ref max, 5), m5 = MathF.Max(old5, MaxAcross(r5));
        // p = 2^{s − m}; lR: row R's Σp, lane by lane.
        var shift0 = Vector512.Create(AttentionSoftmax.Shift(m0));
        var shift1 = Vector512.Create(AttentionSoftmax.Shift(m1));
        var shift2 = Vector512.Create(AttentionSoftmax.Shift(m2));
        var shift3 = Vector512.Create(AttentionSoftmax.Shift(m3));
        var shift4 = Vector512.Create(AttentionSoftmax.Shift(m4));
        var shift5 = Vector512.Create(AttentionSoftmax.Shift(m5));
        Vector512<float> l0 = default, l1 = default, l2 = default, l3 = default, l4 = default, l5 = default;
        for (int j = 0; j < KvRows; j += Lanes)
        {
            ref float column = ref Unsafe.Add(ref scores, j);
            l0 += Probabilities(ref column, shift0);
            l1 += Probabilities(ref Unsafe.Add(ref column, 1 * Keys), shift1);
            l2 += Probabilities(ref Unsafe.Add(ref column, 2 * Keys), shift2);
            l3 += Probabilities(ref Unsafe.Add(ref column, 3 * Keys), shift3);
            l4 += Probabilities(ref Unsafe.Add(ref column, 4 * Keys), shift4);
            l5 += Probabilities(ref Unsafe.Add(ref column, 5 * Keys), shift5);
        }
        AttentionSoftmax.Update(ref max, ref sum, ref rescale, 0, old0, m0, Vector512.Sum(l0));
        AttentionSoftmax.Update(ref max, ref sum, ref rescale, 1, old1, m1, Vector512.Sum(l1));
        AttentionSoftmax.Update(ref max, ref sum, ref rescale, 2, old2, m2, Vector512.Sum(l2));
        AttentionSoftmax.Update(ref max, ref sum, ref rescale, 3, old3, m3, Vector512.Sum(l3));
        AttentionSoftmax.Update(ref max, ref sum, ref rescale, 4, old4, m4, Vector512.Sum(l4));
        AttentionSoftmax.Update(ref max, ref sum, ref rescale, 5, old5, m5, Vector512.Sum(l5));
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Accumulate(ref readonly float probabilities, ref readonly float values, int keys, ref readonly float rescale, ref float output)
    {
        int headDim = TScores.HeadDim, c0 = 0;
        for (; c0 + 4 * Lanes <= headDim; c0 += 4 * Lanes)
        {
            AccumulatePass(in probabilities, in Unsafe.Add(ref Unsafe.AsRef(in values), c0), keys, in rescale, ref Unsafe.Add(ref output, c0));
        }
        for (; c0 < headDim; c0 += Lanes)
        {
            AccumulateVector(in probabilities, in Unsafe.Add(ref Unsafe.AsRef(in values), c0), keys, in rescale, ref Unsafe.Add(ref output, c0));
        }
    }

    /// <summary>One pass of <see cref="Accumulate"/> over 4 vectors of head dimensions: 24 accumulators, rescaled by α as they are loaded.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void AccumulatePass(ref readonly float probabilities, ref readonly float values, int keys, ref readonly float rescale, ref float output)
    {
        int headDim = TScores.HeadDim;
        ref float out0 = ref output;
        ref float out1 = ref Unsafe.Add(ref out0, headDim);
        ref float out2 = ref Unsafe.Add(ref out1, headDim);
        ref float out3 = ref Unsafe.Add(ref out2, headDim);
        ref float out4 = ref Unsafe.Add(ref out3, headDim);
        ref float out5 = ref Unsafe.Add(ref out4, headDim);
        ref float alpha = ref Unsafe.AsRef(in rescale);
        // oR_J: vector J of this pass for row R, rescaled by α_R as it is loaded.
        var alpha0 = Vector512.Create(Unsafe.Add(ref alpha, 0));
        Vector512<float> o0_0 = Vector512.LoadUnsafe(ref out0, 0) * alpha0, o0_1 = Vector512.LoadUnsafe(ref out0, Lanes) * alpha0, o0_2 = Vector512.LoadUnsafe(ref out0, 2 * Lanes) * alpha0, o0_3 = Vector512.LoadUnsafe(ref out0, 3 * Lanes) * alpha0;
        var alpha1 = Vector512.Create(Unsafe.Add(ref alpha, 1));
        Vector512<float> o1_0 = Vector512.LoadUnsafe(ref out1, 0) * alpha1, o1_1 = Vector512.LoadUnsafe(ref out1, Lanes) * alpha1, o1_2 = Vector512.LoadUnsafe(ref out1, 2 * Lanes) * alpha1, o1_3 = Vector512.LoadUnsafe(ref out1, 3 * Lanes) * alpha1;
        var alpha2 = Vector512.Create(Unsafe.Add(ref alpha, 2));
        Vector512<float> o2_0 = Vector512.LoadUnsafe(ref out2, 0) * alpha2, o2_1 = Vector512.LoadUnsafe(ref out2, Lanes) * alpha2, o2_2 = Vector512.LoadUnsafe(ref out2, 2 * Lanes) * alpha2, o2_3 = Vector512.LoadUnsafe(ref out2, 3 * Lanes) * alpha2;
        var alpha3 = Vector512.Create(Unsafe.Add(ref alpha, 3));
        Vector512<float> o3_0 = Vector512.LoadUnsafe(ref out3, 0) * alpha3, o3_1 = Vector512.LoadUnsafe(ref out3, Lanes) * alpha3, o3_2 = Vector512.LoadUnsafe(ref out3, 2 * Lanes) * alpha3, o3_3 = Vector512.LoadUnsafe(ref out3, 3 * Lanes) * alpha3;
        var alpha4 = Vector512.Create(Unsafe.Add(ref alpha, 4));
        Vector512<float> o4_0 = Vector512.LoadUnsafe(ref out4, 0) * alpha4, o4_1 = Vector512.LoadUnsafe(ref out4, Lanes) * alpha4, o4_2 = Vector512.LoadUnsafe(ref out4, 2 * Lanes) * alpha4, o4_3 = Vector512.LoadUnsafe(ref out4, 3 * Lanes) * alpha4;
        var alpha5 = Vector512.Create(Unsafe.Add(ref alpha, 5));
        Vector512<float> o5_0 = Vector512.LoadUnsafe(ref out5, 0) * alpha5, o5_1 = Vector512.LoadUnsafe(ref out5, Lanes) * alpha5, o5_2 = Vector512.LoadUnsafe(ref out5, 2 * Lanes) * alpha5, o5_3 = Vector512.LoadUnsafe(ref out5, 3 * Lanes) * alpha5;
        ref float p = ref Unsafe.AsRef(in probabilities);
        ref float v = ref Unsafe.AsRef(in values);
        for (int j = 0; j < keys; j++)
        {
            var v0 = Vector512.LoadUnsafe(ref v, 0);
            var v1 = Vector512.LoadUnsafe(ref v, Lanes);
            var v2 = Vector512.LoadUnsafe(ref v, 2 * Lanes);
            var v3 = Vector512.LoadUnsafe(ref v, 3 * Lanes);
            var p0 = Vector512.Create(p);
            o0_0 = Vector512.FusedMultiplyAdd(p0, v0, o0_0); o0_1 = Vector512.FusedMultiplyAdd(p0, v1, o0_1); o0_2 = Vector512.FusedMultiplyAdd(p0, v2, o0_2); o0_3 = Vector512.FusedMultiplyAdd(p0, v3, o0_3);
            var p1 = Vector512.Create(Unsafe.Add(ref p, 1 * Keys));
            o1_0 = Vector512.FusedMultiplyAdd(p1, v0, o1_0); o1_1 = Vector512.FusedMultiplyAdd(p1, v1, o1_1); o1_2 = Vector512.FusedMultiplyAdd(p1, v2, o1_2); o1_3 = Vector512.FusedMultiplyAdd(p1, v3, o1_3);
            var p2 = Vector512.Create(Unsafe.Add(ref p, 2 * Keys));
            o2_0 = Vector512.FusedMultiplyAdd(p2, v0, o2_0); o2_1 = Vector512.FusedMultiplyAdd(p2, v1, o2_1); o2_2 = Vector512.FusedMultiplyAdd(p2, v2, o2_2); o2_3 = Vector512.FusedMultiplyAdd(p2, v3, o2_3);
            var p3 = Vector512.Create(Unsafe.Add(ref p, 3 * Keys));
            o3_0 = Vector512.FusedMultiplyAdd(p3, v0, o3_0); o3_1 = Vector512.FusedMultiplyAdd(p3, v1, o3_1); o3_2 = Vector512.FusedMultiplyAdd(p3, v2, o3_2); o3_3 = Vector512.FusedMultiplyAdd(p3, v3, o3_3);
            var p4 = Vector512.Create(Unsafe.Add(ref p, 4 * Keys));
            o4_0 = Vector512.FusedMultiplyAdd(p4, v0, o4_0); o4_1 = Vector512.FusedMultiplyAdd(p4, v1, o4_1); o4_2 = Vector512.FusedMultiplyAdd(p4, v2, o4_2); o4_3 = Vector512.FusedMultiplyAdd(p4, v3, o4_3);
            var p5 = Vector512.Create(Unsafe.Add(ref p, 5 * Keys));
            o5_0 = Vector512.FusedMultiplyAdd(p5, v0, o5_0); o5_1 = Vector512.FusedMultiplyAdd(p5, v1, o5_1); o5_2 = Vector512.FusedMultiplyAdd(p5, v2, o5_2); o5_3 = Vector512.FusedMultiplyAdd(p5, v3, o5_3);
            p = ref Unsafe.Add(ref p, 1);
            v = ref Unsafe.Add(ref v, headDim);  // V row j + 1
        }
        Store4(ref out0, o0_0, o0_1, o0_2, o0_3);
        Store4(ref out1, o1_0, o1_1, o1_2, o1_3);
        Store4(ref out2, o2_0, o2_1, o2_2, o2_3);
        Store4(ref out3, o3_0, o3_1, o3_2, o3_3);
        Store4(ref out4, o4_0, o4_1, o4_2, o4_3);
        Store4(ref out5, o5_0, o5_1, o5_2, o5_3);
    }

    /// <summary>One pass of <see cref="Accumulate"/> over a single vector of head dimensions (what d leaves after the 4-vector passes).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void AccumulateVector(ref readonly float probabilities, ref readonly float values, int keys, ref readonly float rescale, ref float output)
    {
        int headDim = TScores.HeadDim;
        ref float alpha = ref Unsafe.AsRef(in rescale);
        var o0 = Vector512.LoadUnsafe(ref output, 0 * (nuint)headDim) * Vector512.Create(Unsafe.Add(ref alpha, 0));
        var o1 = Vector512.LoadUnsafe(ref output, 1 * (nuint)headDim) * Vector512.Create(Unsafe.Add(ref alpha, 1));
        var o2 = Vector512.LoadUnsafe(ref output, 2 * (nuint)headDim) * Vector512.Create(Unsafe.Add(ref alpha, 2));
        var o3 = Vector512.LoadUnsafe(ref output, 3 * (nuint)headDim) * Vector512.Create(Unsafe.Add(ref alpha, 3));
        var o4 = Vector512.LoadUnsafe(ref output, 4 * (nuint)headDim) * Vector512.Create(Unsafe.Add(ref alpha, 4));
        var o5 = Vector512.LoadUnsafe(ref output, 5 * (nuint)headDim) * Vector512.Create(Unsafe.Add(ref alpha, 5));
        ref float p = ref Unsafe.AsRef(in probabilities);
        ref float v = ref Unsafe.AsRef(in values);
        for (int j = 0; j < keys; j++)
        {
            var v0 = Vector512.LoadUnsafe(ref v);
            o0 = Vector512.FusedMultiplyAdd(Vector512.Create(p), v0, o0);
            o1 = Vector512.FusedMultiplyAdd(Vector512.Create(Unsafe.Add(ref p, 1 * Keys)), v0, o1);
            o2 = Vector512.FusedMultiplyAdd(Vector512.Create(Unsafe.Add(ref p, 2 * Keys)), v0, o2);
            o3 = Vector512.FusedMultiplyAdd(Vector512.Create(Unsafe.Add(ref p, 3 * Keys)), v0, o3);
            o4 = Vector512.FusedMultiplyAdd(Vector512.Create(Unsafe.Add(ref p, 4 * Keys)), v0, o4);
            o5 = Vector512.FusedMultiplyAdd(Vector512.Create(Unsafe.Add(ref p, 5 * Keys)), v0, o5);
            p = ref Unsafe.Add(ref p, 1);
            v = ref Unsafe.Add(ref v, headDim);
        }
        o0.StoreUnsafe(ref output, 0 * (nuint)headDim);
        o1.StoreUnsafe(ref output, 1 * (nuint)headDim);
        o2.StoreUnsafe(ref output, 2 * (nuint)headDim);
        o3.StoreUnsafe(ref output, 3 * (nuint)headDim);
        o4.StoreUnsafe(ref output, 4 * (nuint)headDim);
        o5.StoreUnsafe(ref output, 5 * (nuint)headDim);
    }

    /// <summary>p = 2^{s + shift} over one vector of a row of S, in place; returns p.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Probabilities(ref float row, Vector512<float> shift)
    {
        var p = CpuExp2.Exp2(Vector512.LoadUnsafe(ref row) + shift);
        p.StoreUnsafe(ref row);
        return p;
    }

    /// <summary>The largest lane, halving the vector down to 4 lanes, then comparing those.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float MaxAcross(Vector512<float> v)
    {
        var v8 = Vector256.MaxNative(v.GetLower(), v.GetUpper());
        var v4 = Vector128.MaxNative(v8.GetLower(), v8.GetUpper());
        return float.MaxNative(float.MaxNative(v4[0], v4[1]), float.MaxNative(v4[2], v4[3]));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store4(ref float row, Vector512<float> x0, Vector512<float> x1, Vector512<float> x2, Vector512<float> x3)
    {
        x0.StoreUnsafe(ref row, 0);
        x1.StoreUnsafe(ref row, Lanes);
        x2.StoreUnsafe(ref row, 2 * Lanes);
        x3.StoreUnsafe(ref row, 3 * Lanes);
    }
}
