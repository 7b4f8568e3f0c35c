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
/// Two passes, each owning what it writes so that no two threads add into one row: the first runs over K/V blocks
/// (dK, dV of the block, in registers-sized chunks), the second over query blocks (dQ of the block); each recomputes the
/// P and dS it needs. That costs the scores and dP twice, and gives gradients that do not depend on the thread count.
/// </para>
/// <para>
/// Register tiles (256-bit vectors, W = 8 floats): a block's scores S = Q·Kᵀ and dP = dO·Vᵀ are 4 query rows × 2W keys
/// at a time, 8 accumulators, from K and V transposed per K block ([d][2W], so a key run is one vector load) and Q
/// broadcast; the products with a block of P or dS (dV += Pᵀ·dO, dK += dSᵀ·Q, dQ += dS·K) run along d, two rows of
/// the output and 4W of d at a time, 8 accumulators, each input row loaded once for both. Queries and keys are padded
/// to whole blocks (zero rows, L = −∞, keys masked), so the tiles have no edge cases.
/// </para>
/// </remarks>
internal static class CpuAttentionBackward
{
    /// <summary>Query rows of a block: 8 groups of the score tile's 4 rows.</summary>
    private const int QBlock = 32;

    /// <summary>Keys of a block: the score tile's two vectors.</summary>
    private static int KBlock => 2 * Vector256<float>.Count;

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
                    Parallel.For(0, s.KvHeads * s.KBlocks, item => KeyBlock(s, padded, outputs, item / s.KBlocks, item % s.KBlocks));
                    Parallel.For(0, s.Heads * s.QBlocks, item => QueryBlock(s, padded, outputs, item / s.QBlocks, item % s.QBlocks));
                }
            }
        }
        finally
        {
            padded.Dispose();
        }
    }

    /// <summary>dK and dV of K block <paramref name="kb"/> of K/V head <paramref name="kvHead"/>, over every query head of its group.</summary>
    private static unsafe void KeyBlock(in Shape s, PaddedStep t, in Outputs o, int kvHead, int kb)
    {
        int kBlock = KBlock;
        int keys = Math.Min(kBlock, s.Skv - kb * kBlock);
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
            }
        }
        long first = ((long)kvHead * s.Skv + kb * kBlock) * s.D;
        for (int e = 0; e < keys * s.D; e++)
        {
            o.DK[first + e] += s.Scale * gk[e];
            o.DV[first + e] += gv[e];
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
        long first = ((long)head * s.Sq + qb * QBlock) * s.D;
        for (int e = 0; e < queries * s.D; e++)
        {
            o.DQ[first + e] += s.Scale * gq[e];
        }
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
    /// out[i, :] = rows[i, :]·T for the QBlock rows (d apart) against a transposed block T ([d][KBlock]): 4 rows × 2
    /// vectors of keys per pass, 8 accumulators.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void RowsTimesTransposed(float* rows, float* transposed, float* output, int d)
    {
        int w = Vector256<float>.Count, kBlock = 2 * w;
        for (int i = 0; i < QBlock; i += 4)
        {
            float* r0 = rows + i * d, r1 = r0 + d, r2 = r1 + d, r3 = r2 + d;
            Vector256<float> s0_0 = default, s0_1 = default, s1_0 = default, s1_1 = default;
            Vector256<float> s2_0 = default, s2_1 = default, s3_0 = default, s3_1 = default;
            for (int c = 0; c < d; c++)
            {
                var t0 = Vector256.Load(transposed + c * kBlock);
                var t1 = Vector256.Load(transposed + c * kBlock + w);
                var x0 = Vector256.Create(r0[c]);
                s0_0 = Vector256.FusedMultiplyAdd(x0, t0, s0_0); s0_1 = Vector256.FusedMultiplyAdd(x0, t1, s0_1);
                var x1 = Vector256.Create(r1[c]);
                s1_0 = Vector256.FusedMultiplyAdd(x1, t0, s1_0); s1_1 = Vector256.FusedMultiplyAdd(x1, t1, s1_1);
                var x2 = Vector256.Create(r2[c]);
                s2_0 = Vector256.FusedMultiplyAdd(x2, t0, s2_0); s2_1 = Vector256.FusedMultiplyAdd(x2, t1, s2_1);
                var x3 = Vector256.Create(r3[c]);
                s3_0 = Vector256.FusedMultiplyAdd(x3, t0, s3_0); s3_1 = Vector256.FusedMultiplyAdd(x3, t1, s3_1);
            }
            float* o = output + i * kBlock;
            Vector256.Store(s0_0, o); Vector256.Store(s0_1, o + w);
            Vector256.Store(s1_0, o + kBlock); Vector256.Store(s1_1, o + kBlock + w);
            Vector256.Store(s2_0, o + 2 * kBlock); Vector256.Store(s2_1, o + 2 * kBlock + w);
            Vector256.Store(s3_0, o + 3 * kBlock); Vector256.Store(s3_1, o + 3 * kBlock + w);
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
    /// x &lt; <paramref name="inner"/>; d a multiple of 2 vectors (HeadDim is a multiple of 16).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void AddProducts(float* m, int rowStep, int innerStep, float* rows, float* output, int outputs, int inner, int d)
    {
        int w = Vector256<float>.Count;
        for (int r = 0; r < outputs; r += 4)
        {
            for (int c = 0; c < d; c += 2 * w)
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

    /// <summary>The step's outputs, pinned for the duration of <see cref="Step"/>.</summary>
    private readonly unsafe struct Outputs(float* dQ, float* dK, float* dV)
    {
        public readonly float* DQ = dQ, DK = dK, DV = dV;
    }

    /// <summary>
    /// The step's inputs padded to whole blocks (pooled arrays, pinned while the step runs): Q, dO
    /// [heads][QBlocks·QBlock][d] with zero rows past Sq; L·log₂e (−∞ past Sq) and D per query row; K
    /// [kvHeads][KBlocks·KBlock][d] with zero rows past Skv; Kᵀ and Vᵀ per K block, [kvHeads][KBlocks][d][KBlock].
    /// </summary>
    private sealed unsafe class PaddedStep : IDisposable
    {
        private readonly float[][] arrays;
        private readonly GCHandle[] pins;
        private readonly float* pq, pdo, plse, pdelta, pk, pkt, pvt;
        private readonly int d, rowsQ, rowsK;

        public PaddedStep(in Shape s, ReadOnlySpan<float> qIn, ReadOnlySpan<float> kIn, ReadOnlySpan<float> vIn, ReadOnlySpan<float> dOIn, ReadOnlySpan<float> lseIn, ReadOnlySpan<float> deltaIn)
        {
            d = s.D;
            rowsQ = s.QBlocks * QBlock;
            rowsK = s.KBlocks * KBlock;
            int[] lengths = [s.Heads * rowsQ * d, s.Heads * rowsQ * d, s.Heads * rowsQ, s.Heads * rowsQ, s.KvHeads * rowsK * d, s.KvHeads * rowsK * d, s.KvHeads * rowsK * d];
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
