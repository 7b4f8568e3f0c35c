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
/// Register tiles of R rows × 16 floats (<see cref="IBackwardTiles"/>: 6 rows of two 256-bit vectors, or 12 rows of
/// one 512-bit vector, two where 32 floats are left, 6 rows × a whole block's 48 keys for its scores): the scores S = Q·Kᵀ and dP = dO·Vᵀ take R query rows × 16 keys at a time from K and V
/// transposed per K block ([d][KBlock], so a key run is contiguous) and Q broadcast; the products with a block of P or
/// dS (dV += Pᵀ·dO, dK += dSᵀ·Q, dQ += dS·K) run along d, R rows of the output and 16 of d at a time, each input row
/// loaded once for the R. Queries and keys are padded to whole blocks (zero rows, L = −∞, keys masked), so the tiles
/// have no edge cases.
/// </para>
/// </remarks>
internal static class CpuAttentionBackward
{
    /// <summary>Floats across every register tile: the scores' keys per pass and the products' columns of d per pass.</summary>
    public const int TileColumns = 16;

    /// <summary>Query rows of a block: whole register tiles of rows for both widths (8 of 6, 4 of 12).</summary>
    public const int QBlock = 48;

    /// <summary>Keys of a block: whole register tiles of rows in the dK/dV products, three 16-key passes of the scores.</summary>
    public const int KBlock = 48;

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
        => Step(arguments, q, k, v, dO, lse, delta, dQ, dK, dV, CpuFeatures.Best,
            arguments.KvHeads >= Environment.ProcessorCount ? BackwardSchedule.PerKvHead : BackwardSchedule.TwoPasses);

    /// <summary>
    /// <see cref="Step(in AttentionStepArguments, ReadOnlySpan{float}, ReadOnlySpan{float}, ReadOnlySpan{float}, ReadOnlySpan{float}, ReadOnlySpan{float}, ReadOnlySpan{float}, Span{float}, Span{float}, Span{float})"/>
    /// with the tiles' width and the schedule named (tests run each): the 512-bit tiles for
    /// <see cref="CpuIsa.Vector512"/>, the 256-bit ones otherwise.
    /// </summary>
    internal static void Step(
        in AttentionStepArguments arguments,
        ReadOnlySpan<float> q, ReadOnlySpan<float> k, ReadOnlySpan<float> v, ReadOnlySpan<float> dO,
        ReadOnlySpan<float> lse, ReadOnlySpan<float> delta,
        Span<float> dQ, Span<float> dK, Span<float> dV, CpuIsa isa, BackwardSchedule schedule)
    {
        if (isa == CpuIsa.Vector512)
        {
            CpuAttentionBackward<Vector512BackwardTiles>.Step(arguments, q, k, v, dO, lse, delta, dQ, dK, dV, schedule);
        }
        else
        {
            CpuAttentionBackward<Vector256BackwardTiles>.Step(arguments, q, k, v, dO, lse, delta, dQ, dK, dV, schedule);
        }
    }
}

/// <summary><see cref="CpuAttentionBackward"/> with the register tiles of one vector width.</summary>
internal static class CpuAttentionBackward<TTiles>
    where TTiles : struct, IBackwardTiles
{
    private const int QBlock = CpuAttentionBackward.QBlock;

    private const int KBlock = CpuAttentionBackward.KBlock;

    /// <summary>One step (see <see cref="CpuAttentionBackward"/>).</summary>
    public static void Step(
        in AttentionStepArguments arguments,
        ReadOnlySpan<float> q, ReadOnlySpan<float> k, ReadOnlySpan<float> v, ReadOnlySpan<float> dO,
        ReadOnlySpan<float> lse, ReadOnlySpan<float> delta,
        Span<float> dQ, Span<float> dK, Span<float> dV, BackwardSchedule schedule)
    {
        var s = new Shape(arguments);
        long qLength = (long)s.Heads * s.Sq * s.D, kLength = (long)s.KvHeads * s.Skv * s.D, rows = (long)s.Heads * s.Sq;
        if (q.Length != qLength || dO.Length != qLength || dQ.Length != qLength || lse.Length != rows || delta.Length != rows ||
            k.Length != kLength || v.Length != kLength || dK.Length != kLength || dV.Length != kLength)
        {
            throw new ArgumentException("The tensors do not match the step's shape.");
        }
        if (s.Sq == 0 || s.Skv == 0)
        {
            return;
        }
        if (s.D % CpuAttentionBackward.TileColumns != 0)
        {
            // RingAttentionOptions and KD0013 allow multiples of 16 only.
            throw new ArgumentException($"The CPU backward pass needs d to be a multiple of {CpuAttentionBackward.TileColumns}; it is {s.D}.");
        }

        unsafe
        {
            fixed (float* pq = q, pk = k, pv = v, pdo = dO, plse = lse, pdelta = delta, pdq = dQ, pdk = dK, pdv = dV)
            {
                var padded = new PaddedStep(s, new Inputs(pq, pk, pv, pdo, plse, pdelta));
                try
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
                finally
                {
                    padded.Dispose();
                }
            }
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
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void KeyBlock(in Shape s, PaddedStep t, in Outputs o, int kvHead, int kb, bool accumulateDQ)
    {
        float* scratch = stackalloc float[2 * QBlock * KBlock + 2 * KBlock * s.D + CacheLine.Floats];
        float* p = CacheLine.Aligned(scratch), ds = p + QBlock * KBlock, gk = ds + QBlock * KBlock, gv = gk + KBlock * s.D;
        new Span<float>(gk, KBlock * s.D).Clear();
        new Span<float>(gv, KBlock * s.D).Clear();
        for (int head = kvHead * s.Group; head < (kvHead + 1) * s.Group; head++)
        {
            for (int qb = 0; qb < s.QBlocks; qb++)
            {
                if (!Probabilities(s, t, head, qb, kvHead, kb, p, ds, out var extent))
                {
                    continue;
                }
                // dV[j] += Σ_i P[i, j]·dO[i]; dK[j] += scale·Σ_i dS[i, j]·Q[i]: P and dS read down a column.
                AddTransposedProduct(p, t.DORows(head, qb), gv, s.D, extent);
                AddTransposedProduct(ds, t.QRows(head, qb), gk, s.D, extent);
                if (accumulateDQ)
                {
                    AddProduct(ds, t.KRows(kvHead, kb), t.DQRows(head, qb), s.D, extent);
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
        CpuScaledAdd.Add(new Span<float>(o.DK + first, keys * s.D), new ReadOnlySpan<float>(gk, keys * s.D), s.Scale);
        CpuScaledAdd.Add(new Span<float>(o.DV + first, keys * s.D), new ReadOnlySpan<float>(gv, keys * s.D), 1);
    }

    /// <summary>Adds accumulated dQ rows (times the scale) of <paramref name="head"/> from local row <paramref name="row0"/> into the output.</summary>
    private static unsafe void AddQueryRows(in Shape s, in Outputs o, int head, int row0, int rows, float* gq)
    {
        CpuScaledAdd.Add(new Span<float>(o.DQ + ((long)head * s.Sq + row0) * s.D, rows * s.D), new ReadOnlySpan<float>(gq, rows * s.D), s.Scale);
    }

    /// <summary>dQ of query block <paramref name="qb"/> of <paramref name="head"/>, over every key of its K/V head.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void QueryBlock(in Shape s, PaddedStep t, in Outputs o, int head, int qb)
    {
        int queries = Math.Min(QBlock, s.Sq - qb * QBlock);
        int kvHead = head / s.Group;
        float* scratch = stackalloc float[2 * QBlock * KBlock + QBlock * s.D + CacheLine.Floats];
        float* p = CacheLine.Aligned(scratch), ds = p + QBlock * KBlock, gq = ds + QBlock * KBlock;
        new Span<float>(gq, QBlock * s.D).Clear();
        for (int kb = 0; kb < s.KBlocks; kb++)
        {
            if (Probabilities(s, t, head, qb, kvHead, kb, p, ds, out var extent))
            {
                // dQ[i] += scale·Σ_j dS[i, j]·K[j].
                AddProduct(ds, t.KRows(kvHead, kb), gq, s.D, extent);
            }
        }
        AddQueryRows(s, o, head, qb * QBlock, queries, gq);
    }

    /// <summary>
    /// P and dS of one block into <paramref name="p"/> and <paramref name="ds"/> ([QBlock][KBlock]) within
    /// <paramref name="extent"/>; false when the mask hides the whole block (nothing written).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe bool Probabilities(in Shape s, PaddedStep t, int head, int qb, int kvHead, int kb, float* p, float* ds, out BlockExtent extent)
    {
        int q0 = qb * QBlock, k0 = kb * KBlock;
        int queries = Math.Min(QBlock, s.Sq - q0), keys = Math.Min(KBlock, s.Skv - k0);
        extent = BlockExtent.Of(queries, keys);
        BlockVisibility visibility = s.Visibility(q0, queries, k0, keys);
        if (visibility == BlockVisibility.None)
        {
            return false;
        }

        // S in log₂ units, then P = 2^{S − L log₂e}; masked and padded entries −∞, so P = 0 there exactly.
        RowsTimesTransposed(t.QRows(head, qb), t.KTransposed(kvHead, kb), p, s.D, extent);
        float* lse = t.LseLog2(head, qb);
        float* dPRow = ds;
        RowsTimesTransposed(t.DORows(head, qb), t.VTransposed(kvHead, kb), dPRow, s.D, extent);
        float* delta = t.Delta(head, qb);
        int columns = extent.KeyColumns;
        for (int i = 0; i < extent.QueryRows; i++)
        {
            float* pi = p + i * KBlock, dsi = ds + i * KBlock;
            if (float.IsNegativeInfinity(lse[i]))
            {
                new Span<float>(pi, columns).Clear();
                new Span<float>(dsi, columns).Clear();
                continue;
            }
            if (visibility == BlockVisibility.Partial && i < queries)
            {
                for (int j = 0; j < keys; j++)
                {
                    if (!s.Visible(q0 + i, k0 + j))
                    {
                        pi[j] = float.NegativeInfinity;
                    }
                }
            }
            new Span<float>(pi + keys, columns - keys).Fill(float.NegativeInfinity);
            TTiles.Gradients(pi, dsi, columns, s.ScaleLog2, lse[i], delta[i]);
        }
        return true;
    }

    /// <summary>out[i, j] = rows[i, :]·T[:, j] for the block's rows (d apart) and keys against a transposed block T ([d][KBlock]).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void RowsTimesTransposed(float* rows, float* transposed, float* output, int d, BlockExtent extent) =>
        TTiles.RowsTimesTransposed(rows, transposed, output, d, extent.QueryRows, extent.KeyColumns);

    /// <summary>
    /// out[j, :] += Σ_i m[i, j]·rows[i, :] for the block's key columns j of m ([QBlock][KBlock]) over its query rows i
    /// (rows and out d apart).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void AddTransposedProduct(float* m, float* rows, float* output, int d, BlockExtent extent) =>
        TTiles.AddProducts(m, 1, KBlock, rows, output, extent.KeyRows, extent.QueryRows, d);

    /// <summary>
    /// out[i, :] += Σ_j m[i, j]·rows[j, :] for the block's query rows i of m ([QBlock][KBlock]) against its key rows j
    /// (d apart).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void AddProduct(float* m, float* rows, float* output, int d, BlockExtent extent) =>
        TTiles.AddProducts(m, KBlock, 1, rows, output, extent.QueryRows, extent.KeyRows, d);

    /// <summary>
    /// The part of a QBlock × KBlock block the tiles cover: its query rows and keys rounded up to whole register tiles
    /// (<see cref="IBackwardTiles.TileRows"/>; the scores' 16-key passes), so a short last block costs its own size, not a whole block's. Rows and keys
    /// past the shard are padding (L = −∞, masked keys): their P and dS are 0.
    /// </summary>
    /// <param name="QueryRows">Query rows, a multiple of the tiles' rows: the scores' rows, dQ's outputs and dK/dV's inner length.</param>
    /// <param name="KeyRows">Keys, a multiple of the tiles' rows: dK/dV's outputs and dQ's inner length.</param>
    /// <param name="KeyColumns">Keys whose P and dS are computed: <paramref name="KeyRows"/> rounded up to the scores' 16-key passes.</param>
    private readonly record struct BlockExtent(int QueryRows, int KeyRows, int KeyColumns)
    {
        public static BlockExtent Of(int queries, int keys)
        {
            int keyRows = RoundUp(keys, TTiles.TileRows);
            return new BlockExtent(RoundUp(queries, TTiles.TileRows), keyRows, RoundUp(keyRows, CpuAttentionBackward.TileColumns));
        }

        private static int RoundUp(int value, int multiple) => (value + multiple - 1) / multiple * multiple;
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

    /// <summary>The step's inputs, pinned while it runs (shapes as in <see cref="CpuAttentionBackward.Step(in AttentionStepArguments, ReadOnlySpan{float}, ReadOnlySpan{float}, ReadOnlySpan{float}, ReadOnlySpan{float}, ReadOnlySpan{float}, ReadOnlySpan{float}, Span{float}, Span{float}, Span{float})"/>).</summary>
    private readonly unsafe struct Inputs(float* q, float* k, float* v, float* dO, float* lse, float* delta)
    {
        public readonly float* Q = q, K = k, V = v, DO = dO, Lse = lse, Delta = delta;
    }

    /// <summary>The step's outputs, pinned while it runs.</summary>
    private readonly unsafe struct Outputs(float* dQ, float* dK, float* dV)
    {
        public readonly float* DQ = dQ, DK = dK, DV = dV;
    }

    /// <summary>
    /// The step's inputs padded to whole blocks (pooled arrays, pinned while the step runs, each from its first cache line): Q, dO
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

        /// <summary>Pads every head's rows on the workers: a query head or a K/V head each, all of it written, padding zeroed.</summary>
        public PaddedStep(in Shape s, Inputs inputs)
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
                arrays[a] = ArrayPool<float>.Shared.Rent(lengths[a] + CacheLine.Floats);
                pins[a] = GCHandle.Alloc(arrays[a], GCHandleType.Pinned);
                addresses[a] = CacheLine.Aligned((float*)pins[a].AddrOfPinnedObject());
            }
            pq = addresses[0];
            pdo = addresses[1];
            plse = addresses[2];
            pdelta = addresses[3];
            pk = addresses[4];
            pkt = addresses[5];
            pvt = addresses[6];
            pdq = addresses[7];

            var shape = s;
            Parallel.For(0, s.Heads + s.KvHeads, item =>
            {
                if (item < shape.Heads)
                {
                    PadQueryHead(shape, inputs, item);
                }
                else
                {
                    PadKvHead(shape, inputs, item - shape.Heads);
                }
            });
        }

        /// <summary>Q and dO rows of <paramref name="head"/> with zero rows past Sq, L·log₂e and D (−∞ and 0 past Sq), a zero dQ accumulator.</summary>
        private void PadQueryHead(in Shape s, in Inputs inputs, int head)
        {
            long source = (long)head * s.Sq, target = (long)head * rowsQ;
            int values = s.Sq * d, padding = (rowsQ - s.Sq) * d;
            new ReadOnlySpan<float>(inputs.Q + source * d, values).CopyTo(new Span<float>(pq + target * d, values));
            new ReadOnlySpan<float>(inputs.DO + source * d, values).CopyTo(new Span<float>(pdo + target * d, values));
            new Span<float>(pq + target * d + values, padding).Clear();
            new Span<float>(pdo + target * d + values, padding).Clear();
            new Span<float>(pdq + target * d, rowsQ * d).Clear();
            float log2e = MathF.Log2(MathF.E);
            for (int i = 0; i < rowsQ; i++)
            {
                plse[target + i] = i < s.Sq ? inputs.Lse[source + i] * log2e : float.NegativeInfinity;
                pdelta[target + i] = i < s.Sq ? inputs.Delta[source + i] : 0;
            }
        }

        /// <summary>K rows of <paramref name="kvHead"/> with zero rows past Skv; Kᵀ and Vᵀ per K block with zero columns past Skv.</summary>
        private void PadKvHead(in Shape s, in Inputs inputs, int kvHead)
        {
            long source = (long)kvHead * s.Skv * d, target = (long)kvHead * rowsK * d;
            int values = s.Skv * d, padding = (rowsK - s.Skv) * d;
            new ReadOnlySpan<float>(inputs.K + source, values).CopyTo(new Span<float>(pk + target, values));
            new Span<float>(pk + target + values, padding).Clear();
            if (padding > 0)
            {
                // The last block's columns past Skv: clear the block, then fill the columns inside Skv.
                long lastBlock = target + (long)(s.KBlocks - 1) * KBlock * d;
                new Span<float>(pkt + lastBlock, KBlock * d).Clear();
                new Span<float>(pvt + lastBlock, KBlock * d).Clear();
            }
            for (int j = 0; j < s.Skv; j++)
            {
                float* kRow = inputs.K + source + (long)j * d, vRow = inputs.V + source + (long)j * d;
                long at = target + (long)(j / KBlock * KBlock) * d + j % KBlock;
                for (int c = 0; c < d; c++)
                {
                    pkt[at + c * KBlock] = kRow[c];
                    pvt[at + c * KBlock] = vRow[c];
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
