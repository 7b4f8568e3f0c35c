using System;
using System.Runtime.CompilerServices;
using KernelDsl.Cpu;

namespace KernelDsl.Ring;

/// <summary>
/// The attention register tiles in plain scalar code, for machines without accelerated vectors, 4 query rows per
/// block: S as 4 rows × 2 keys and O as 4 rows × 2 head dimensions at a time, 8 accumulators each.
/// </summary>
internal readonly struct ScalarAttentionTiles<TScores> : ICpuAttentionTiles
    where TScores : IAttentionScores
{
    /// <summary>Keys per tile: S rows are this far apart.</summary>
    private const int Keys = 128;

    public static CpuIsa Isa => CpuIsa.Scalar;

    public static int QRows => 4;

    public static int KvRows => Keys;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Scores(ref readonly float queries, ref readonly float keys, int count, ref float scores)
    {
        int headDim = TScores.HeadDim;
        for (int j0 = 0; j0 < count; j0 += 2)
        {
            // sR_J: key j0 + J for query row R.
            float s0_0 = 0f, s0_1 = 0f, s1_0 = 0f, s1_1 = 0f, s2_0 = 0f, s2_1 = 0f, s3_0 = 0f, s3_1 = 0f;
            ref float k = ref Unsafe.Add(ref Unsafe.AsRef(in keys), j0);
            ref float q = ref Unsafe.AsRef(in queries);
            for (int c = 0; c < headDim; c++)
            {
                float k0 = k, k1 = Unsafe.Add(ref k, 1);
                float q0 = q, q1 = Unsafe.Add(ref q, 1 * headDim), q2 = Unsafe.Add(ref q, 2 * headDim), q3 = Unsafe.Add(ref q, 3 * headDim);
                s0_0 = MathF.FusedMultiplyAdd(q0, k0, s0_0); s0_1 = MathF.FusedMultiplyAdd(q0, k1, s0_1);
                s1_0 = MathF.FusedMultiplyAdd(q1, k0, s1_0); s1_1 = MathF.FusedMultiplyAdd(q1, k1, s1_1);
                s2_0 = MathF.FusedMultiplyAdd(q2, k0, s2_0); s2_1 = MathF.FusedMultiplyAdd(q2, k1, s2_1);
                s3_0 = MathF.FusedMultiplyAdd(q3, k0, s3_0); s3_1 = MathF.FusedMultiplyAdd(q3, k1, s3_1);
                k = ref Unsafe.Add(ref k, KvRows);  // Kᵀ row c + 1
                q = ref Unsafe.Add(ref q, 1);
            }
            ref float s = ref Unsafe.Add(ref scores, j0);
            s = s0_0; Unsafe.Add(ref s, 1) = s0_1;
            Unsafe.Add(ref s, 1 * Keys) = s1_0; Unsafe.Add(ref s, 1 * Keys + 1) = s1_1;
            Unsafe.Add(ref s, 2 * Keys) = s2_0; Unsafe.Add(ref s, 2 * Keys + 1) = s2_1;
            Unsafe.Add(ref s, 3 * Keys) = s3_0; Unsafe.Add(ref s, 3 * Keys + 1) = s3_1;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Softmax(ref float scores, ref float max, ref float sum, ref float rescale)
    {
        // rR: row R's largest score.
        float r0 = scores, r1 = Unsafe.Add(ref scores, 1 * Keys), r2 = Unsafe.Add(ref scores, 2 * Keys), r3 = Unsafe.Add(ref scores, 3 * Keys);
        for (int j = 1; j < KvRows; j++)
        {
            ref float column = ref Unsafe.Add(ref scores, j);
            r0 = float.MaxNative(r0, column);
            r1 = float.MaxNative(r1, Unsafe.Add(ref column, 1 * Keys));
            r2 = float.MaxNative(r2, Unsafe.Add(ref column, 2 * Keys));
            r3 = float.MaxNative(r3, Unsafe.Add(ref column, 3 * Keys));
        }
        float old0 = Unsafe.Add(ref max, 0), m0 = MathF.Max(old0, r0);
        float old1 = Unsafe.Add(ref max, 1), m1 = MathF.Max(old1, r1);
        float old2 = Unsafe.Add(ref max, 2), m2 = MathF.Max(old2, r2);
        float old3 = Unsafe.Add(ref max, 3), m3 = MathF.Max(old3, r3);
        // p = 2^{s − m}; lR: row R's Σp.
        float shift0 = AttentionSoftmax.Shift(m0), shift1 = AttentionSoftmax.Shift(m1), shift2 = AttentionSoftmax.Shift(m2), shift3 = AttentionSoftmax.Shift(m3);
        float l0 = 0f, l1 = 0f, l2 = 0f, l3 = 0f;
        for (int j = 0; j < KvRows; j++)
        {
            ref float column = ref Unsafe.Add(ref scores, j);
            l0 += Probability(ref column, shift0);
            l1 += Probability(ref Unsafe.Add(ref column, 1 * Keys), shift1);
            l2 += Probability(ref Unsafe.Add(ref column, 2 * Keys), shift2);
            l3 += Probability(ref Unsafe.Add(ref column, 3 * Keys), shift3);
        }
        AttentionSoftmax.Update(ref max, ref sum, ref rescale, 0, old0, m0, l0);
        AttentionSoftmax.Update(ref max, ref sum, ref rescale, 1, old1, m1, l1);
        AttentionSoftmax.Update(ref max, ref sum, ref rescale, 2, old2, m2, l2);
        AttentionSoftmax.Update(ref max, ref sum, ref rescale, 3, old3, m3, l3);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Accumulate(ref readonly float probabilities, ref readonly float values, int keys, ref readonly float rescale, ref float output)
    {
        int headDim = TScores.HeadDim;
        ref float alpha = ref Unsafe.AsRef(in rescale);
        float alpha0 = alpha, alpha1 = Unsafe.Add(ref alpha, 1), alpha2 = Unsafe.Add(ref alpha, 2), alpha3 = Unsafe.Add(ref alpha, 3);
        for (int c0 = 0; c0 < headDim; c0 += 2)
        {
            // oR_J: dimension c0 + J for row R, rescaled by α_R as it is loaded.
            ref float out0 = ref Unsafe.Add(ref output, c0);
            ref float out1 = ref Unsafe.Add(ref out0, headDim);
            ref float out2 = ref Unsafe.Add(ref out1, headDim);
            ref float out3 = ref Unsafe.Add(ref out2, headDim);
            float o0_0 = out0 * alpha0, o0_1 = Unsafe.Add(ref out0, 1) * alpha0;
            float o1_0 = out1 * alpha1, o1_1 = Unsafe.Add(ref out1, 1) * alpha1;
            float o2_0 = out2 * alpha2, o2_1 = Unsafe.Add(ref out2, 1) * alpha2;
            float o3_0 = out3 * alpha3, o3_1 = Unsafe.Add(ref out3, 1) * alpha3;
            ref float p = ref Unsafe.AsRef(in probabilities);
            ref float v = ref Unsafe.Add(ref Unsafe.AsRef(in values), c0);
            for (int j = 0; j < keys; j++)
            {
                float v0 = v, v1 = Unsafe.Add(ref v, 1);
                float p0 = p, p1 = Unsafe.Add(ref p, 1 * Keys), p2 = Unsafe.Add(ref p, 2 * Keys), p3 = Unsafe.Add(ref p, 3 * Keys);
                o0_0 = MathF.FusedMultiplyAdd(p0, v0, o0_0); o0_1 = MathF.FusedMultiplyAdd(p0, v1, o0_1);
                o1_0 = MathF.FusedMultiplyAdd(p1, v0, o1_0); o1_1 = MathF.FusedMultiplyAdd(p1, v1, o1_1);
                o2_0 = MathF.FusedMultiplyAdd(p2, v0, o2_0); o2_1 = MathF.FusedMultiplyAdd(p2, v1, o2_1);
                o3_0 = MathF.FusedMultiplyAdd(p3, v0, o3_0); o3_1 = MathF.FusedMultiplyAdd(p3, v1, o3_1);
                p = ref Unsafe.Add(ref p, 1);
                v = ref Unsafe.Add(ref v, headDim);  // V row j + 1
            }
            out0 = o0_0; Unsafe.Add(ref out0, 1) = o0_1;
            out1 = o1_0; Unsafe.Add(ref out1, 1) = o1_1;
            out2 = o2_0; Unsafe.Add(ref out2, 1) = o2_1;
            out3 = o3_0; Unsafe.Add(ref out3, 1) = o3_1;
        }
    }

    /// <summary>p = 2^{s + shift} for one score of S, in place; returns p.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float Probability(ref float score, float shift)
    {
        float p = CpuExp2.Exp2(score + shift);
        score = p;
        return p;
    }
}
