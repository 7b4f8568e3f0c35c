using System;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace KernelDsl.Ring;

/// <summary>
/// Exact merge of two attention partials over disjoint key sets, in fp32. A partial row is its
/// normalised output O = Σⱼ pⱼ·vⱼ / Σⱼ pⱼ and its log-sum-exp L = ln Σⱼ e^{sⱼ} (natural log, sⱼ the
/// scaled logits). Over the union of the keys, L = ln(e^{La} + e^{Lb}) and
/// O = e^{La−L}·Oa + e^{Lb−L}·Ob: softmax over all keys is the two softmaxes weighted by their shares.
/// </summary>
/// <remarks>
/// <para>
/// Overflow-safe form: with M = max(La, Lb), m = min(La, Lb) and e = e^{m−M} ∈ (0, 1],
/// L = M + log1p(e); the weights are e^{M−L} = 1/(1+e) and e^{m−L} = e/(1+e). They are computed from
/// the difference m − M rather than from the rounded L, so they sum to 1 whatever L's magnitude
/// (at |L| ≈ 1e4 one ulp of L is 1e-3, which e^{La−L} would turn into a 1e-3 error of O).
/// </para>
/// <para>
/// A row with no visible key is the identity of the merge: L = −∞, O = 0. Merging with it returns
/// the other partial bit for bit, and merging two of them stays (−∞, 0) — never −∞ − (−∞) = NaN. A NaN
/// in either input propagates.
/// </para>
/// </remarks>
public static class AttentionMerge
{
    /// <summary>The log-sum-exp of the union of two disjoint key sets: ln(e^{<paramref name="lseA"/>} + e^{<paramref name="lseB"/>}).</summary>
    /// <param name="lseA">Log-sum-exp of the first partial (−∞ when it saw no key).</param>
    /// <param name="lseB">Log-sum-exp of the second partial (−∞ when it saw no key).</param>
    /// <returns>The merged log-sum-exp; −∞ when both are −∞.</returns>
    public static float CombineLse(float lseA, float lseB)
    {
        if (float.IsNegativeInfinity(lseA))
        {
            return lseB;
        }
        if (float.IsNegativeInfinity(lseB))
        {
            return lseA;
        }
        float max = MathF.Max(lseA, lseB);
        return max + Log1P(MathF.Exp(MathF.Min(lseA, lseB) - max));
    }

    /// <summary>Merges the partial (<paramref name="partialO"/>, <paramref name="partialLse"/>) into the running row in place.</summary>
    /// <param name="runningO">The running normalised output row (head_dim values), updated in place.</param>
    /// <param name="runningLse">The running log-sum-exp, updated in place.</param>
    /// <param name="partialO">The partial's normalised output row (0 when <paramref name="partialLse"/> is −∞).</param>
    /// <param name="partialLse">The partial's log-sum-exp.</param>
    /// <exception cref="ArgumentException">The rows differ in length.</exception>
    public static void MergeRow(Span<float> runningO, ref float runningLse, ReadOnlySpan<float> partialO, float partialLse)
    {
        if (partialO.Length != runningO.Length)
        {
            throw new ArgumentException($"The partial row has {partialO.Length} values, the running row {runningO.Length}.", nameof(partialO));
        }
        MergeRowUnchecked(runningO, ref runningLse, partialO, partialLse);
    }

    /// <summary>Merges every row of a partial into the running state in place; row i is values i·headDim … (i+1)·headDim − 1.</summary>
    /// <param name="runningO">Running outputs, rows × <paramref name="headDim"/> values, updated in place.</param>
    /// <param name="runningLse">Running log-sum-exps, one per row, updated in place.</param>
    /// <param name="partialO">Partial outputs, rows × <paramref name="headDim"/> values.</param>
    /// <param name="partialLse">Partial log-sum-exps, one per row.</param>
    /// <param name="headDim">Values per row (≥ 1).</param>
    /// <exception cref="ArgumentException">A span's length does not match rows = <paramref name="runningLse"/>.Length.</exception>
    public static void MergeRows(Span<float> runningO, Span<float> runningLse, ReadOnlySpan<float> partialO, ReadOnlySpan<float> partialLse, int headDim)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(headDim, 1);
        int rows = runningLse.Length;
        if (partialLse.Length != rows)
        {
            throw new ArgumentException($"Expected {rows} log-sum-exps (one per running row), got {partialLse.Length}.", nameof(partialLse));
        }
        if (runningO.Length != (long)rows * headDim)
        {
            throw new ArgumentException($"Expected {rows}×{headDim} running outputs, got {runningO.Length}.", nameof(runningO));
        }
        if (partialO.Length != runningO.Length)
        {
            throw new ArgumentException($"Expected {rows}×{headDim} partial outputs, got {partialO.Length}.", nameof(partialO));
        }
        for (int row = 0; row < rows; row++)
        {
            MergeRowUnchecked(
                runningO.Slice(row * headDim, headDim), ref runningLse[row], partialO.Slice(row * headDim, headDim), partialLse[row]);
        }
    }

    private static void MergeRowUnchecked(Span<float> runningO, ref float runningLse, ReadOnlySpan<float> partialO, float partialLse)
    {
        if (float.IsNegativeInfinity(partialLse))
        {
            return;
        }
        if (float.IsNegativeInfinity(runningLse))
        {
            partialO.CopyTo(runningO);
            runningLse = partialLse;
            return;
        }

        bool runningIsMax = runningLse >= partialLse;
        float max = runningIsMax ? runningLse : partialLse;
        float e = MathF.Exp((runningIsMax ? partialLse : runningLse) - max);
        float maxWeight = 1f / (1f + e);
        float minWeight = e * maxWeight;
        runningLse = max + Log1P(e);
        Blend(runningO, runningIsMax ? maxWeight : minWeight, partialO, runningIsMax ? minWeight : maxWeight);
    }

    /// <summary>o ← a·o + b·p, FMA-rounded the same way at every vector width and in the scalar tail.</summary>
    private static void Blend(Span<float> o, float a, ReadOnlySpan<float> p, float b)
    {
        ref float oRef = ref MemoryMarshal.GetReference(o);
        ref float pRef = ref MemoryMarshal.GetReference(p);
        int n = o.Length;
        int i = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            var va = Vector512.Create(a);
            var vb = Vector512.Create(b);
            for (; i <= n - Vector512<float>.Count; i += Vector512<float>.Count)
            {
                var oi = Vector512.LoadUnsafe(ref oRef, (nuint)i);
                Vector512.FusedMultiplyAdd(Vector512.LoadUnsafe(ref pRef, (nuint)i), vb, oi * va).StoreUnsafe(ref oRef, (nuint)i);
            }
        }
        if (Vector256.IsHardwareAccelerated)
        {
            var va = Vector256.Create(a);
            var vb = Vector256.Create(b);
            for (; i <= n - Vector256<float>.Count; i += Vector256<float>.Count)
            {
                var oi = Vector256.LoadUnsafe(ref oRef, (nuint)i);
                Vector256.FusedMultiplyAdd(Vector256.LoadUnsafe(ref pRef, (nuint)i), vb, oi * va).StoreUnsafe(ref oRef, (nuint)i);
            }
        }
        if (Vector128.IsHardwareAccelerated)
        {
            var va = Vector128.Create(a);
            var vb = Vector128.Create(b);
            for (; i <= n - Vector128<float>.Count; i += Vector128<float>.Count)
            {
                var oi = Vector128.LoadUnsafe(ref oRef, (nuint)i);
                Vector128.FusedMultiplyAdd(Vector128.LoadUnsafe(ref pRef, (nuint)i), vb, oi * va).StoreUnsafe(ref oRef, (nuint)i);
            }
        }
        for (; i < n; i++)
        {
            o[i] = MathF.FusedMultiplyAdd(p[i], b, o[i] * a);
        }
    }

    /// <summary>
    /// ln(1 + x) for x ∈ [0, 1], accurate for small x where 1 + x rounds (Goldberg's trick: with u = fl(1 + x),
    /// ln(u)·x/(u − 1) cancels the rounding of u; u = 1 means x is below half an ulp of 1 and ln(1 + x) ≈ x).
    /// </summary>
    private static float Log1P(float x)
    {
        float u = 1f + x;
        return u == 1f ? x : MathF.Log(u) * x / (u - 1f);
    }
}
