using System;
using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Threading.Tasks;
using KernelDsl.Cpu;

namespace KernelDsl.Ring;

/// <summary>
/// The CPU block math of the attention backward pass for one ring step (FlashAttention-2's algorithm): for the local
/// queries against one K/V shard, with the forward's log-sum-exp L and D = rowsum(dO ∘ O) of every query row,
/// recomputes P = e^{scale·q·k − L} and accumulates, in fp32,
/// dV += Pᵀ·dO, dS = P ∘ (dO·Vᵀ − D), dQ += scale·dS·K, dK += scale·dSᵀ·Q
/// (dK and dV summed over the query heads that share a K/V head). Blocks of <see cref="QBlock"/> queries ×
/// <see cref="KBlock"/> keys that the mask hides are skipped (<see cref="RingMask.Visibility(int, int, int, int, bool)"/>
/// on their first and last positions).
/// </summary>
/// <remarks>
/// <para>
/// Every thread owns what it writes, so no two add into one row and the gradients do not depend on the thread count.
/// With at least as many K/V heads as cores a worker takes a whole K/V head: its dK, dV and the dQ of its query heads
/// in one pass. Otherwise two passes: the first over K/V blocks (dK, dV of the block), the second over query blocks
/// (dQ of the block), each recomputing the P and dS it needs (the scores and dP twice) for the parallelism.
/// </para>
/// <para>
/// Register tiles (256-bit vectors, W = 8 floats): a block's scores S = Q·Kᵀ and dP = dO·Vᵀ are 4 query rows × 4W keys
/// at a time, 16 accumulators, from K and V transposed per K block ([d][4W], so a key run is four vector loads) and Q
/// broadcast; the products with a block of P or dS (dV += Pᵀ·dO, dK += dSᵀ·Q, dQ += dS·K) run along d, four rows of
/// the output and 4W of d at a time (2W for the last 16 of a d that is not a multiple of 32), each input row loaded
/// once for the four. Queries and keys are padded
/// to whole blocks (zero rows, L = −∞, keys masked), so the tiles have no edge cases.
/// </para>
/// </remarks>
internal static class CpuAttentionBackward
{
    /// <summary>Query rows of a block: 8 groups of the score tile's 4 rows.</summary>
    private const int QBlock = 32;

    /// <summary>Keys of a block: the score tile's four vectors.</summary>
    private static int KBlock => 4 * Vector256<float>.Count;

    /// <summary>
    /// One step: every tensor fp32 and row-major. <paramref name="q"/>, <paramref name="dO"/>, <paramref name="dQ"/>
    /// [Heads, Sq, d]; <paramref name="lse"/>, <paramref name="delta"/> [Heads, Sq]; <paramref name="k"/>,
    /// <paramref name="v"/>, <paramref name="dK"/>, <paramref name="dV"/> [KvHeads, Skv, d]. Adds into dQ, dK, dV.
    /// A row with L = −∞ (it saw no key in the forward pass) contributes nothing.
    /// </summary>
    public static void Step(
        in AttentionStepArguments arguments,
        ReadOnlySpan<float> q, ReadOnlySpan<float> k, ReadOnlySpan<float> v, ReadOnlySpan<float> dO,
        ReadOnlySpan<float> lse, ReadOnlySpan<float> delta,
        Span<float> dQ, Span<float> dK, Span<float> dV)
        => Step(arguments, q, k, v, dO, lse, delta, dQ, dK, dV, arguments.KvHeads >= Environment.ProcessorCount ? BackwardSchedule.PerKvHead : BackwardSchedule.TwoPasses);

    /// <summary><see cref="Step(in AttentionStepArguments, ReadOnlySpan{float}, ReadOnlySpan{float}, ReadOnlySpan{float}, ReadOnlySpan{float}, ReadOnlySpan{float}, ReadOnlySpan{float}, Span{float}, Span{float}, Span{float})"/> with the schedule named (tests run both).</summary>
    internal static void Step(
        in AttentionStepArguments arguments,
        ReadOnlySpan<float> q, ReadOnlySpan<float> k, ReadOnlySpan<float> v, ReadOnlySpan<float> dO,
        ReadOnlySpan<float> lse, ReadOnlySpan<float> delta,
        Span<float> dQ, Span<float> dK, Span<float> dV, BackwardSchedule schedule)
    {
        var s = new Shape(arguments);
        if (q.Length != (long)s.Heads * s.Sq * s.D || k.Length != (long)s.KvHeads * s.Skv * s.D)
        {
            throw new ArgumentException("The tensors do not match the step's shape.");
        }
        if (s.Sq == 0 || s.Skv == 0)
        {
            return;
        }
        if (s.D % (2 * Vector256<float>.Count) != 0)
        {
            // RingAttentionOptions and KD0013 allow multiples of 16 only.
            throw new ArgumentException($"The CPU backward pass needs d to be a multiple of {2 * Vector256<float>.Count}; it is {s.D}.");
        }

        var padded = new PaddedStep(s, q, k, v, dO, lse, delta);
        try
        {
            unsafe
            {
                fixed (float* pdq = dQ, pdk = dK, pdv = dV)
                {
                    var outputs = new Outputs(pdq, pdk, pdv);
                    if (schedule == BackwardSchedule.PerKvHead)
                    {
                        Parallel.For(0, s.KvHeads, kvHead => KvHead(s, padded, outputs, kvHead));
                    }
                    else
                    {
                        Parallel.For(0, s.KvHeads * s.KBlocks, item => KeyBlock(s, padded, outputs, item / s.KBlocks, item % s.KBlocks, accumulateDQ: false));
                        Parallel.For(0, s.Heads * s.QBlocks, item => QueryBlock(s, padded, outputs, item / s.QBlocks, item % s.QBlocks));
                    }
                }
            }
        }
        finally
        {
            padded.Dispose();
        }
    }

    /// <summary>
    /// Everything of K/V head <paramref name="kvHead"/> in one pass: its dK, dV and the dQ of the query heads of its
    /// group, which no other worker writes; P and dS are computed once per block.
    /// </summary>
    private static unsafe void KvHead(in Shape s, PaddedStep t, in Outputs o, int kvHead)
    {
        for (int kb = 0; kb < s.KBlocks; kb++)
        {
            KeyBlock(s, t, o, kvHead, kb, accumulateDQ: true);
        }
        for (int head = kvHead * s.Group; head < (kvHead + 1) * s.Group; head++)
        {
            AddQueryRows(s, o, head, 0, s.Sq, t.DQRows(head, 0));
        }
    }

    /// <summary>
    /// dK and dV of K block <paramref name="kb"/> of K/V head <paramref name="kvHead"/>, over every query head of its group;
    /// with <paramref name="accumulateDQ"/> also those heads' dQ into the padded accumulator (the per-K/V-head schedule).
    /// </summary>
    private static unsafe void KeyBlock(in Shape s, PaddedStep t, in Outputs o, int kvHead, int kb, bool accumulateDQ)
    {
        int kBlock = KBlock;
        float* p = stackalloc float[QBlock * kBlock];
        float* ds = stackalloc float[QBlock * kBlock];
        float* gk = stackalloc float[kBlock * s.D];
        float* gv = stackalloc float[kBlock * s.D];
        new Span<float>(gk, kBlock * s.D).Clear();
        new Span<float>(gv, kBlock * s.D).Clear();
        for (int head = kvHead * s.Group; head < (kvHead + 1) * s.Group; head++)
        {
            for (int qb = 0; qb < s.QBlocks; qb++)
            {
                if (!Probabilities(s, t, head, qb, kvHead, kb, p, ds))
                {
                    continue;
                }
                // dV[j] += Σ_i P[i, j]·dO[i]; dK[j] += scale·Σ_i dS[i, j]·Q[i]: P and dS read down a column.
                AddTransposedProduct(p, t.DORows(head, qb), gv, kBlock, s.D);
                AddTransposedProduct(ds, t.QRows(head, qb), gk, kBlock, s.D);
                if (accumulateDQ)
                {
                    AddProduct(ds, t.KRows(kvHead, kb), t.DQRows(head, qb), kBlock, s.D);
                }
            }
        }
        AddKeyBlock(s, o, kvHead, kb, gk, gv);
    }

    /// <summary>Adds a K block's accumulated dK (times the scale) and dV into the outputs' rows inside Skv.</summary>
    private static unsafe void AddKeyBlock(in Shape s, in Outputs o, int kvHead, int kb, float* gk, float* gv)
    {
        int keys = Math.Min(KBlock, s.Skv - kb * KBlock);
        long first = ((long)kvHead * s.Skv + kb * KBlock) * s.D;
        for (int e = 0; e < keys * s.D; e++)
        {
            o.DK[first + e] += s.Scale * gk[e];
            o.DV[first + e] += gv[e];
        }
    }

    /// <summary>Adds accumulated dQ rows (times the scale) of <paramref name="head"/> from local row <paramref name="row0"/> into the output.</summary>
    private static unsafe void AddQueryRows(in Shape s, in Outputs o, int head, int row0, int rows, float* gq)
    {
        long first = ((long)head * s.Sq + row0) * s.D;
        for (int e = 0; e < rows * s.D; e++)
        {
            o.DQ[first + e] += s.Scale * gq[e];
        }
    }

    /// <summary>dQ of query block <paramref name="qb"/> of <paramref name="head"/>, over every key of its K/V head.</summary>
    private static unsafe void QueryBlock(in Shape s, PaddedStep t, in Outputs o, int head, int qb)
    {
        int kBlock = KBlock;
        int queries = Math.Min(QBlock, s.Sq - qb * QBlock);
        int kvHead = head / s.Group;
        float* p = stackalloc float[QBlock * kBlock];
        float* ds = stackalloc float[QBlock * kBlock];
        float* gq = stackalloc float[QBlock * s.D];
        new Span<float>(gq, QBlock * s.D).Clear();
        for (int kb = 0; kb < s.KBlocks; kb++)
        {
            if (Probabilities(s, t, head, qb, kvHead, kb, p, ds))
            {
                // dQ[i] += scale·Σ_j dS[i, j]·K[j].
                AddProduct(ds, t.KRows(kvHead, kb), gq, kBlock, s.D);
            }
        }
        AddQueryRows(s, o, head, qb * QBlock, queries, gq);
    }

    /// <summary>
    /// P and dS of one block into <paramref name="p"/> and <paramref name="ds"/> ([QBlock][KBlock]); false when the
    /// mask hides the whole block (nothing written).
    /// </summary>
    private static unsafe bool Probabilities(in Shape s, PaddedStep t, int head, int qb, int kvHead, int kb, float* p, float* ds)
    {
        int kBlock = KBlock;
        int q0 = qb * QBlock, k0 = kb * kBlock;
        int queries = Math.Min(QBlock, s.Sq - q0), keys = Math.Min(kBlock, s.Skv - k0);
        BlockVisibility visibility = s.Visibility(q0, queries, k0, keys);
        if (visibility == BlockVisibility.None)
        {
            return false;
        }

        // S in log₂ units, then P = 2^{S − L log₂e}; masked and padded entries −∞, so P = 0 there exactly.
        RowsTimesTransposed(t.QRows(head, qb), t.KTransposed(kvHead, kb), p, s.D);
        float* lse = t.LseLog2(head, qb);
        float* dPRow = ds;
        RowsTimesTransposed(t.DORows(head, qb), t.VTransposed(kvHead, kb), dPRow, s.D);
        float* delta = t.Delta(head, qb);
        var scale = Vector256.Create(s.ScaleLog2);
        for (int i = 0; i < QBlock; i++)
        {
            float* pi = p + i * kBlock, dsi = ds + i * kBlock;
            if (float.IsNegativeInfinity(lse[i]))
            {
                new Span<float>(pi, kBlock).Clear();
                new Span<float>(dsi, kBlock).Clear();
                continue;
            }
            if (visibility == BlockVisibility.Partial || keys < kBlock)
            {
                for (int j = 0; j < kBlock; j++)
                {
                    if (j >= keys || (i < queries && !s.Visible(q0 + i, k0 + j)))
                    {
                        pi[j] = float.NegativeInfinity;
                    }
                }
            }
            var l = Vector256.Create(lse[i]);
            var d = Vector256.Create(delta[i]);
            for (int j = 0; j < kBlock; j += Vector256<float>.Count)
            {
                var probability = CpuExp2.Exp2(Vector256.FusedMultiplyAdd(Vector256.Load(pi + j), scale, -l));
                Vector256.Store(probability, pi + j);
                Vector256.Store(probability * (Vector256.Load(dsi + j) - d), dsi + j);
            }
        }
        return true;
    }

    /// <summary>
    /// out[i, :] = rows[i, :]·T for the QBlock rows (d apart) against a transposed block T ([d][KBlock]): 4 rows × 4
    /// vectors of keys per pass, 16 accumulators, each T vector loaded once for the four rows.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void RowsTimesTransposed(float* rows, float* transposed, float* output, int d)
    {
        int w = Vector256<float>.Count, kBlock = 4 * w;
        for (int i = 0; i < QBlock; i += 4)
        {
            float* r0 = rows + i * d, r1 = r0 + d, r2 = r1 + d, r3 = r2 + d;
            Vector256<float> s00 = default, s01 = default, s02 = default, s03 = default, s10 = default, s11 = default, s12 = default, s13 = default;
            Vector256<float> s20 = default, s21 = default, s22 = default, s23 = default, s30 = default, s31 = default, s32 = default, s33 = default;
            for (int c = 0; c < d; c++)
            {
                float* t = transposed + c * kBlock;
                var t0 = Vector256.Load(t);
                var t1 = Vector256.Load(t + w);
                var t2 = Vector256.Load(t + 2 * w);
                var t3 = Vector256.Load(t + 3 * w);
                var x0 = Vector256.Create(r0[c]);
                s00 = Vector256.FusedMultiplyAdd(x0, t0, s00); s01 = Vector256.FusedMultiplyAdd(x0, t1, s01);
                s02 = Vector256.FusedMultiplyAdd(x0, t2, s02); s03 = Vector256.FusedMultiplyAdd(x0, t3, s03);
                var x1 = Vector256.Create(r1[c]);
                s10 = Vector256.FusedMultiplyAdd(x1, t0, s10); s11 = Vector256.FusedMultiplyAdd(x1, t1, s11);
                s12 = Vector256.FusedMultiplyAdd(x1, t2, s12); s13 = Vector256.FusedMultiplyAdd(x1, t3, s13);
                var x2 = Vector256.Create(r2[c]);
                s20 = Vector256.FusedMultiplyAdd(x2, t0, s20); s21 = Vector256.FusedMultiplyAdd(x2, t1, s21);
                s22 = Vector256.FusedMultiplyAdd(x2, t2, s22); s23 = Vector256.FusedMultiplyAdd(x2, t3, s23);
                var x3 = Vector256.Create(r3[c]);
                s30 = Vector256.FusedMultiplyAdd(x3, t0, s30); s31 = Vector256.FusedMultiplyAdd(x3, t1, s31);
                s32 = Vector256.FusedMultiplyAdd(x3, t2, s32); s33 = Vector256.FusedMultiplyAdd(x3, t3, s33);
            }
            float* o = output + i * kBlock;
            Vector256.Store(s00, o); Vector256.Store(s01, o + w); Vector256.Store(s02, o + 2 * w); Vector256.Store(s03, o + 3 * w);
            o += kBlock;
            Vector256.Store(s10, o); Vector256.Store(s11, o + w); Vector256.Store(s12, o + 2 * w); Vector256.Store(s13, o + 3 * w);
            o += kBlock;
            Vector256.Store(s20, o); Vector256.Store(s21, o + w); Vector256.Store(s22, o + 2 * w); Vector256.Store(s23, o + 3 * w);
            o += kBlock;
            Vector256.Store(s30, o); Vector256.Store(s31, o + w); Vector256.Store(s32, o + 2 * w); Vector256.Store(s33, o + 3 * w);
        }
    }

    /// <summary>
    /// out[j, :] += Σ_i m[i, j]·rows[i, :] for the <paramref name="columns"/> columns of m ([QBlock][columns]) over its
    /// QBlock rows (rows and out d apart): four output rows and 2 vectors of d per pass, 8 accumulators.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void AddTransposedProduct(float* m, float* rows, float* output, int columns, int d) =>
        AddProducts(m, 1, columns, rows, output, columns, QBlock, d);

    /// <summary>
    /// out[i, :] += Σ_j m[i, j]·rows[j, :] for the QBlock rows of m ([QBlock][columns]) against <paramref name="columns"/>
    /// rows (d apart): four output rows and 2 vectors of d per pass, 8 accumulators.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void AddProduct(float* m, float* rows, float* output, int columns, int d) =>
        AddProducts(m, columns, 1, rows, output, QBlock, columns, d);

    /// <summary>
    /// out[r, :] += Σ_x m[r·rowStep + x·innerStep]·rows[x, :] for r &lt; <paramref name="outputs"/> (a multiple of 4),
    /// x &lt; <paramref name="inner"/>; d a multiple of 2 vectors (HeadDim is a multiple of 16), taken 4 vectors at a time
    /// (<see cref="AddProducts4"/>) while they last.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void AddProducts(float* m, int rowStep, int innerStep, float* rows, float* output, int outputs, int inner, int d)
    {
        int w = Vector256<float>.Count;
        for (int r = 0; r < outputs; r += 4)
        {
            int c = 0;
            for (; c + 4 * w <= d; c += 4 * w)
            {
                AddProducts4(m + r * rowStep, rowStep, innerStep, rows + c, output + r * d + c, inner, d);
            }
            for (; c < d; c += 2 * w)
            {
                float* o0 = output + r * d + c, o1 = o0 + d, o2 = o1 + d, o3 = o2 + d;
                Vector256<float> a0 = Vector256.Load(o0), a1 = Vector256.Load(o0 + w), b0 = Vector256.Load(o1), b1 = Vector256.Load(o1 + w);
                Vector256<float> e0 = Vector256.Load(o2), e1 = Vector256.Load(o2 + w), f0 = Vector256.Load(o3), f1 = Vector256.Load(o3 + w);
                float* mr = m + r * rowStep;
                for (int x = 0; x < inner; x++)
                {
                    float* row = rows + x * d + c;
                    var x0 = Vector256.Load(row);
                    var x1 = Vector256.Load(row + w);
                    float* mx = mr + x * innerStep;
                    var m0 = Vector256.Create(mx[0]);
                    a0 = Vector256.FusedMultiplyAdd(m0, x0, a0); a1 = Vector256.FusedMultiplyAdd(m0, x1, a1);
                    var m1 = Vector256.Create(mx[rowStep]);
                    b0 = Vector256.FusedMultiplyAdd(m1, x0, b0); b1 = Vector256.FusedMultiplyAdd(m1, x1, b1);
                    var m2 = Vector256.Create(mx[2 * rowStep]);
                    e0 = Vector256.FusedMultiplyAdd(m2, x0, e0); e1 = Vector256.FusedMultiplyAdd(m2, x1, e1);
                    var m3 = Vector256.Create(mx[3 * rowStep]);
                    f0 = Vector256.FusedMultiplyAdd(m3, x0, f0); f1 = Vector256.FusedMultiplyAdd(m3, x1, f1);
                }
                Vector256.Store(a0, o0); Vector256.Store(a1, o0 + w); Vector256.Store(b0, o1); Vector256.Store(b1, o1 + w);
                Vector256.Store(e0, o2); Vector256.Store(e1, o2 + w); Vector256.Store(f0, o3); Vector256.Store(f1, o3 + w);
            }
        }
    }

    /// <summary>
    /// <see cref="AddProducts"/> for four output rows and 4 vectors of d: 16 accumulators, each row vector loaded once
    /// for the four rows (half a load per FMA).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void AddProducts4(float* m, int rowStep, int innerStep, float* rows, float* o0, int inner, int d)
    {
        int w = Vector256<float>.Count;
        float* o1 = o0 + d, o2 = o1 + d, o3 = o2 + d;
        Vector256<float> a0 = Vector256.Load(o0), a1 = Vector256.Load(o0 + w), a2 = Vector256.Load(o0 + 2 * w), a3 = Vector256.Load(o0 + 3 * w);
        Vector256<float> b0 = Vector256.Load(o1), b1 = Vector256.Load(o1 + w), b2 = Vector256.Load(o1 + 2 * w), b3 = Vector256.Load(o1 + 3 * w);
        Vector256<float> e0 = Vector256.Load(o2), e1 = Vector256.Load(o2 + w), e2 = Vector256.Load(o2 + 2 * w), e3 = Vector256.Load(o2 + 3 * w);
        Vector256<float> f0 = Vector256.Load(o3), f1 = Vector256.Load(o3 + w), f2 = Vector256.Load(o3 + 2 * w), f3 = Vector256.Load(o3 + 3 * w);
        for (int x = 0; x < inner; x++)
        {
            float* row = rows + x * d;
            var x0 = Vector256.Load(row);
            var x1 = Vector256.Load(row + w);
            var x2 = Vector256.Load(row + 2 * w);
            var x3 = Vector256.Load(row + 3 * w);
            float* mx = m + x * innerStep;
            var m0 = Vector256.Create(mx[0]);
            a0 = Vector256.FusedMultiplyAdd(m0, x0, a0); a1 = Vector256.FusedMultiplyAdd(m0, x1, a1);
            a2 = Vector256.FusedMultiplyAdd(m0, x2, a2); a3 = Vector256.FusedMultiplyAdd(m0, x3, a3);
            var m1 = Vector256.Create(mx[rowStep]);
            b0 = Vector256.FusedMultiplyAdd(m1, x0, b0); b1 = Vector256.FusedMultiplyAdd(m1, x1, b1);
            b2 = Vector256.FusedMultiplyAdd(m1, x2, b2); b3 = Vector256.FusedMultiplyAdd(m1, x3, b3);
            var m2 = Vector256.Create(mx[2 * rowStep]);
            e0 = Vector256.FusedMultiplyAdd(m2, x0, e0); e1 = Vector256.FusedMultiplyAdd(m2, x1, e1);
            e2 = Vector256.FusedMultiplyAdd(m2, x2, e2); e3 = Vector256.FusedMultiplyAdd(m2, x3, e3);
            var m3 = Vector256.Create(mx[3 * rowStep]);
            f0 = Vector256.FusedMultiplyAdd(m3, x0, f0); f1 = Vector256.FusedMultiplyAdd(m3, x1, f1);
            f2 = Vector256.FusedMultiplyAdd(m3, x2, f2); f3 = Vector256.FusedMultiplyAdd(m3, x3, f3);
        }
        Vector256.Store(a0, o0); Vector256.Store(a1, o0 + w); Vector256.Store(a2, o0 + 2 * w); Vector256.Store(a3, o0 + 3 * w);
        Vector256.Store(b0, o1); Vector256.Store(b1, o1 + w); Vector256.Store(b2, o1 + 2 * w); Vector256.Store(b3, o1 + 3 * w);
        Vector256.Store(e0, o2); Vector256.Store(e1, o2 + w); Vector256.Store(e2, o2 + 2 * w); Vector256.Store(e3, o2 + 3 * w);
        Vector256.Store(f0, o3); Vector256.Store(f1, o3 + w); Vector256.Store(f2, o3 + 2 * w); Vector256.Store(f3, o3 + 3 * w);
    }

    /// <summary>Sizes, scale and positions of a step.</summary>
    private readonly struct Shape
    {
        private readonly SequenceShard queries, keys;
        private readonly bool causal;

        public Shape(in AttentionStepArguments a)
        {
            Heads = a.Heads;
            KvHeads = a.KvHeads;
            Group = a.GroupSize;
            D = a.HeadDim;
            Scale = a.Scale;
            ScaleLog2 = a.ScaleLog2;
            Sq = a.QueryShard.LocalLength;
            Skv = a.KeyShard.LocalLength;
            QBlocks = (Sq + QBlock - 1) / QBlock;
            KBlocks = (Skv + KBlock - 1) / KBlock;
            queries = a.QueryShard;
            keys = a.KeyShard;
            causal = a.Causal;
        }

        public int Heads { get; }

        public int KvHeads { get; }

        public int Group { get; }

        public int D { get; }

        public float Scale { get; }

        public float ScaleLog2 { get; }

        public int Sq { get; }

        public int Skv { get; }

        public int QBlocks { get; }

        public int KBlocks { get; }

        public BlockVisibility Visibility(int query0, int queryCount, int key0, int keyCount) => RingMask.Visibility(
            queries.GlobalPosition(query0), queries.GlobalPosition(query0 + queryCount - 1),
            keys.GlobalPosition(key0), keys.GlobalPosition(key0 + keyCount - 1), causal);

        public bool Visible(int query, int key) => RingMask.IsVisible(queries.GlobalPosition(query), keys.GlobalPosition(key), causal);
    }

    /// <summary>The step's outputs, pinned while it runs.</summary>
    private readonly unsafe struct Outputs(float* dQ, float* dK, float* dV)
    {
        public readonly float* DQ = dQ, DK = dK, DV = dV;
    }

    /// <summary>
    /// The step's inputs padded to whole blocks (pooled arrays, pinned while the step runs): Q, dO
    /// [heads][QBlocks·QBlock][d] with zero rows past Sq; L·log₂e (−∞ past Sq) and D per query row; K
    /// [kvHeads][KBlocks·KBlock][d] with zero rows past Skv; Kᵀ and Vᵀ per K block, [kvHeads][KBlocks][d][KBlock]; and a
    /// zeroed dQ accumulator shaped like Q.
    /// </summary>
    private sealed unsafe class PaddedStep : IDisposable
    {
        private readonly float[][] arrays;
        private readonly GCHandle[] pins;
        private readonly float* pq, pdo, plse, pdelta, pk, pkt, pvt, pdq;
        private readonly int d, rowsQ, rowsK;

        public PaddedStep(in Shape s, ReadOnlySpan<float> qIn, ReadOnlySpan<float> kIn, ReadOnlySpan<float> vIn, ReadOnlySpan<float> dOIn, ReadOnlySpan<float> lseIn, ReadOnlySpan<float> deltaIn)
        {
            d = s.D;
            rowsQ = s.QBlocks * QBlock;
            rowsK = s.KBlocks * KBlock;
            int[] lengths = [s.Heads * rowsQ * d, s.Heads * rowsQ * d, s.Heads * rowsQ, s.Heads * rowsQ, s.KvHeads * rowsK * d, s.KvHeads * rowsK * d, s.KvHeads * rowsK * d, s.Heads * rowsQ * d];
            arrays = new float[lengths.Length][];
            pins = new GCHandle[lengths.Length];
            var addresses = new float*[lengths.Length];
            for (int a = 0; a < lengths.Length; a++)
            {
                arrays[a] = ArrayPool<float>.Shared.Rent(lengths[a]);
                Array.Clear(arrays[a], 0, lengths[a]);
                pins[a] = GCHandle.Alloc(arrays[a], GCHandleType.Pinned);
                addresses[a] = (float*)pins[a].AddrOfPinnedObject();
            }
            pq = addresses[0];
            pdo = addresses[1];
            plse = addresses[2];
            pdelta = addresses[3];
            pk = addresses[4];
            pkt = addresses[5];
            pvt = addresses[6];
            pdq = addresses[7];
            float[] q = arrays[0], dO = arrays[1], lse = arrays[2], delta = arrays[3], k = arrays[4], kt = arrays[5], vt = arrays[6];

            float log2e = MathF.Log2(MathF.E);
            for (int h = 0; h < s.Heads; h++)
            {
                qIn.Slice(h * s.Sq * d, s.Sq * d).CopyTo(q.AsSpan(h * rowsQ * d));
                dOIn.Slice(h * s.Sq * d, s.Sq * d).CopyTo(dO.AsSpan(h * rowsQ * d));
                for (int i = 0; i < rowsQ; i++)
                {
                    lse[h * rowsQ + i] = i < s.Sq ? lseIn[h * s.Sq + i] * log2e : float.NegativeInfinity;
                    delta[h * rowsQ + i] = i < s.Sq ? deltaIn[h * s.Sq + i] : 0;
                }
            }
            int kBlock = KBlock;
            for (int g = 0; g < s.KvHeads; g++)
            {
                kIn.Slice(g * s.Skv * d, s.Skv * d).CopyTo(k.AsSpan(g * rowsK * d));
                for (int j = 0; j < s.Skv; j++)
                {
                    long at = ((long)g * rowsK + j / kBlock * kBlock) * d + j % kBlock;
                    for (int c = 0; c < d; c++)
                    {
                        kt[at + c * kBlock] = kIn[(g * s.Skv + j) * d + c];
                        vt[at + c * kBlock] = vIn[(g * s.Skv + j) * d + c];
                    }
                }
            }
        }

        public float* QRows(int head, int qb) => pq + ((long)head * rowsQ + qb * QBlock) * d;

        public float* DORows(int head, int qb) => pdo + ((long)head * rowsQ + qb * QBlock) * d;

        /// <summary>The per-K/V-head schedule's dQ accumulator (zero at the start), padded like Q.</summary>
        public float* DQRows(int head, int qb) => pdq + ((long)head * rowsQ + qb * QBlock) * d;

        public float* LseLog2(int head, int qb) => plse + (long)head * rowsQ + qb * QBlock;

        public float* Delta(int head, int qb) => pdelta + (long)head * rowsQ + qb * QBlock;

        public float* KRows(int kvHead, int kb) => pk + ((long)kvHead * rowsK + kb * KBlock) * d;

        public float* KTransposed(int kvHead, int kb) => pkt + ((long)kvHead * rowsK + kb * KBlock) * d;

        public float* VTransposed(int kvHead, int kb) => pvt + ((long)kvHead * rowsK + kb * KBlock) * d;

        public void Dispose()
        {
            for (int a = 0; a < arrays.Length; a++)
            {
                pins[a].Free();
                ArrayPool<float>.Shared.Return(arrays[a]);
            }
        }
    }
}

/// <summary>
/// How <see cref="CpuAttentionBackward"/> shares a step among threads: one K/V head per worker (P and dS once per block;
/// parallel over K/V heads only), or two passes that recompute P and dS but parallelise over blocks (for fewer K/V heads
/// than cores, e.g. multi-query attention).
/// </summary>
internal enum BackwardSchedule
{
    PerKvHead,
    TwoPasses,
}
