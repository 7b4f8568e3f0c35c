using System.Runtime.CompilerServices;

namespace KernelDsl.Ring;

/// <summary>The per-row scalar steps of the online softmax that every width's <see cref="ICpuAttentionTiles.Softmax"/> shares.</summary>
internal static class AttentionSoftmax
{
    /// <summary>The negated running max a row's scores are shifted by: 0 for a row that has seen no key (m = −∞), so its p = 2^{−∞} = 0.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Shift(float max) => float.IsNegativeInfinity(max) ? 0f : -max;

    /// <summary>Row i's m, l and α after a block: α = 2^{m_old − m} (exactly 1 when the max did not move), l ← α·l + Σp, m ← m.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Update(ref float max, ref float sum, ref float rescale, int i, float old, float m, float rowSum)
    {
        float alpha = m == old ? 1f : float.Exp2(old - m);
        Unsafe.Add(ref sum, i) = Unsafe.Add(ref sum, i) * alpha + rowSum;
        Unsafe.Add(ref max, i) = m;
        Unsafe.Add(ref rescale, i) = alpha;
    }
}
