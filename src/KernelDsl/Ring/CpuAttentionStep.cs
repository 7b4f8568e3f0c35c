using System;
using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Threading.Tasks;
using KernelDsl.Cpu;

namespace KernelDsl.Ring;

/// <summary>
/// One ring step on the CPU, FlashAttention-2 forward, with the register tiles of <typeparamref name="TTiles"/> and
/// the head dimension and scale of <typeparamref name="TScores"/>:
/// <list type="number">
/// <item><description>Q, K, V and the output state are pinned and read in place (<see cref="PinnedAttentionTensors{TElement}"/>: worker threads cannot hold spans).</description></item>
/// <item><description>Each K/V tile of KvRows keys is packed once, in parallel over (K/V head, tile): K as fp32 Kᵀ, V as fp32 rows (widened where 16-bit), both from a cache line, whatever the caller's arrays' alignment.</description></item>
/// <item><description>
/// In parallel over (head, <see cref="TaskRows"/> query rows), query head h reading K/V head h / (heads / kvHeads): for
/// each tile the rows can see, for each block of QRows rows, S = Q·Kᵀ, the mask (none on a fully visible block), the
/// online softmax with an fp32 running max m (log₂ units) and sum l, and O ← α·O + P·V. At the end the partial over
/// this shard is O′ = O / l, L′ = (m + log₂ l)·ln 2.
/// </description></item>
/// <item><description>
/// Into a fresh running state (<see cref="AttentionStepArguments.StateIsInitial"/>) the partials are written directly;
/// otherwise into pooled arrays, then merged into the running state by <see cref="AttentionMerge"/>. Either way a row
/// that saw no key stays unchanged.
/// </description></item>
/// </list>
/// Every row's result is computed by one thread in a fixed order, so the output does not depend on scheduling.
/// Blocking: a task's K/V tile (fp32, 2·128·d·4 bytes: 128 KiB at d = 128) stays in L2 while the task's 16 blocks
/// stream against it, and their S rows stay in L1. The per-row work of a block (row max, rescale of O, the sum's
/// update) is paid once per tile, so longer tiles amortise it (docs/PERFORMANCE_NOTES.md has the tile sizes measured).
/// </summary>
internal sealed class CpuAttentionStep<TTiles, TScores, TElement>
    where TTiles : struct, ICpuAttentionTiles
    where TScores : struct, IAttentionScores
    where TElement : unmanaged
{
    /// <summary>Query rows of one parallel task: 16 blocks, which reuse each K/V tile from L2.</summary>
    public static int TaskRows => 16 * TTiles.QRows;

    /// <summary>
    /// Steps with fewer useful flops (4·heads·Sq·Skv·d) run on the calling thread only: about 0.1 ms of one core,
    /// below which handing work to another thread costs more than it saves.
    /// </summary>
    private const long ParallelFlops = 1L << 23;

    /// <summary>ln 2: turns a log-sum-exp in log₂ units into the natural log of the ring state.</summary>
    private const float Ln2 = 0.6931472f;

    private static int HeadDim => TScores.HeadDim;

    private readonly int heads;
    private readonly int kvHeads;
    private readonly int group;
    private readonly int queryLength;
    private readonly int keyLength;
    private readonly bool causal;
    private readonly PinnedAttentionTensors<TElement> tensors;
    private readonly Rows[] queryRuns;
    private readonly Rows[] keyTiles;
    private readonly float[] packedKeys;
    private readonly float[] packedValues;
    // The packed tiles start at the first cache line of their pooled arrays (pinned while the step runs), so the
    // tiles' vector loads of keys and values do not straddle two lines.
    private readonly GCHandle keysPin, valuesPin;
    private readonly int keysStart, valuesStart;

    private CpuAttentionStep(in AttentionStepArguments arguments, PinnedAttentionTensors<TElement> tensors)
    {
        heads = arguments.Heads;
        kvHeads = arguments.KvHeads;
        group = arguments.GroupSize;
        queryLength = arguments.QueryLength;
        keyLength = arguments.KeyLength;
        causal = arguments.Causal;
        this.tensors = tensors;
        queryRuns = Cut(arguments.QueryShard, TaskRows);
        keyTiles = Cut(arguments.KeyShard, TTiles.KvRows);
        packedKeys = ArrayPool<float>.Shared.Rent(kvHeads * keyTiles.Length * HeadDim * TTiles.KvRows + CacheLine.Floats);
        keysPin = GCHandle.Alloc(packedKeys, GCHandleType.Pinned);
        keysStart = CacheLine.FirstAligned(packedKeys);
        packedValues = ArrayPool<float>.Shared.Rent(kvHeads * keyTiles.Length * TTiles.KvRows * HeadDim + CacheLine.Floats);
        valuesPin = GCHandle.Alloc(packedValues, GCHandleType.Pinned);
        valuesStart = CacheLine.FirstAligned(packedValues);
    }

    /// <summary>The step: the partial attention of every local query over this K/V shard, merged into the running state.</summary>
    /// <exception cref="ArgumentException">The arguments' head dimension or scale are not this kernel's.</exception>
    public static void Run(in AttentionStepArguments arguments, ReadOnlySpan<TElement> q, ReadOnlySpan<TElement> k, ReadOnlySpan<TElement> v, Span<float> runningO, Span<float> runningLse)
    {
        if (arguments.HeadDim != HeadDim)
        {
            throw new ArgumentException($"This kernel is generated for HeadDim = {HeadDim}, got {arguments.HeadDim}.", nameof(arguments));
        }
        if (arguments.Scale != TScores.Scale)
        {
            throw new ArgumentException($"This kernel is generated for Scale = {TScores.Scale}, got {arguments.Scale}.", nameof(arguments));
        }
        if (arguments.QueryLength == 0 || arguments.KeyLength == 0)
        {
            return;
        }
        if (arguments.StateIsInitial)
        {
            PinnedAttentionTensors<TElement>.Pin(in arguments, q, k, v, runningO, runningLse, RunPinned);
            return;
        }
        int rows = arguments.Heads * arguments.QueryLength;
        float[] partialO = ArrayPool<float>.Shared.Rent(rows * HeadDim);
        float[] partialLse = ArrayPool<float>.Shared.Rent(rows);
        try
        {
            // L′ = −∞ marks a row with no visible key in this shard: the merge leaves its running state as it is.
            var outputO = new Span<float>(partialO, 0, rows * HeadDim);
            var outputLse = new Span<float>(partialLse, 0, rows);
            outputLse.Fill(float.NegativeInfinity);
            PinnedAttentionTensors<TElement>.Pin(in arguments, q, k, v, outputO, outputLse, RunPinned);
            AttentionMerge.MergeRows(runningO, runningLse, outputO, outputLse, HeadDim);
        }
        finally
        {
            ArrayPool<float>.Shared.Return(partialO);
            ArrayPool<float>.Shared.Return(partialLse);
        }
    }

    private static void RunPinned(in AttentionStepArguments arguments, PinnedAttentionTensors<TElement> tensors)
    {
        var step = new CpuAttentionStep<TTiles, TScores, TElement>(in arguments, tensors);
        try
        {
            step.Execute();
        }
        finally
        {
            step.keysPin.Free();
            ArrayPool<float>.Shared.Return(step.packedKeys);
            step.valuesPin.Free();
            ArrayPool<float>.Shared.Return(step.packedValues);
        }
    }

    private void Execute()
    {
        long flops = 4L * heads * queryLength * keyLength * HeadDim;
        int packs = kvHeads * keyTiles.Length;
        int tasks = heads * queryRuns.Length;
        if (flops >= ParallelFlops && Environment.ProcessorCount > 1)
        {
            Parallel.For(0, packs, PackTile);
            Parallel.For(0, tasks, Workspace.Rent, (task, _, workspace) =>
            {
                Attend(task, workspace);
                return workspace;
            }, Workspace.Return);
        }
        else
        {
            for (int pack = 0; pack < packs; pack++)
            {
                PackTile(pack);
            }
            var workspace = Workspace.Rent();
            for (int task = 0; task < tasks; task++)
            {
                Attend(task, workspace);
            }
            Workspace.Return(workspace);
        }
    }

    /// <summary>
    /// Pack task: tile t of one K/V head. K as fp32 Kᵀ, packed[c·KvRows + j] = k[j·HeadDim + c] and 0 for the rows past
    /// the tile's keys, so each head dimension's keys are one contiguous run of vectors, which S = Q·Kᵀ loads while it
    /// broadcasts q; V rows copied (widened where 16-bit) so that every row starts on a cache line (an fp32 V read in
    /// place, from wherever the caller's array starts, made P·V's row loads straddle two lines).
    /// </summary>
    private void PackTile(int index)
    {
        int kvHead = index / keyTiles.Length, t = index % keyTiles.Length;
        var tile = keyTiles[t];
        int rows = tile.Positions.Length, kvRows = TTiles.KvRows;
        int source = (kvHead * keyLength + tile.Start) * HeadDim;
        int packed = (kvHead * keyTiles.Length + t) * HeadDim * kvRows;
        int packedKeysAt = keysStart + packed, packedValuesAt = valuesStart + packed;
        ref TElement keys = ref tensors.K[source];
        for (int c = 0; c < HeadDim; c++)
        {
            ref float to = ref packedKeys[packedKeysAt + c * kvRows];
            for (int j = 0; j < rows; j++)
            {
                Unsafe.Add(ref to, j) = CpuConvert.ToSingle(Unsafe.Add(ref keys, j * HeadDim + c));
            }
            for (int j = rows; j < kvRows; j++)
            {
                Unsafe.Add(ref to, j) = 0f;
            }
        }
        CpuConvert.Widen(in tensors.V[source], ref packedValues[packedValuesAt], rows * HeadDim);
    }

    /// <summary>
    /// Task <paramref name="task"/>: the partial attention of one run of at most TaskRows query rows of one head over
    /// this K/V shard, written to the pinned output O and L.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void Attend(int task, Workspace w)
    {
        int head = task / queryRuns.Length;
        var run = queryRuns[task % queryRuns.Length];
        int kvHead = head / group;
        int rows = run.Positions.Length;
        int blocks = (rows + TTiles.QRows - 1) / TTiles.QRows;
        int padded = blocks * TTiles.QRows;
        int firstRow = head * queryLength + run.Start;

        // The run's queries in fp32 times ScaleLog2 (scores then come out in log₂ units), zero rows up to whole
        // blocks; O = 0, m = −∞, l = 0: no key seen yet.
        CpuConvert.Widen(in tensors.Q[firstRow * HeadDim], ref w.Queries[0], rows * HeadDim);
        Scale(w.Queries.AsSpan(0, rows * HeadDim), TScores.ScaleLog2);
        Array.Clear(w.Queries, rows * HeadDim, (padded - rows) * HeadDim);
        w.Output[..(padded * HeadDim)].Clear();
        Array.Fill(w.Max, float.NegativeInfinity, 0, padded);
        Array.Clear(w.Sum, 0, padded);

        for (int t = 0; t < keyTiles.Length; t++)
        {
            var tile = keyTiles[t];
            var visibility = RingMask.Visibility(run.Positions, tile.Positions, causal);
            if (visibility == BlockVisibility.None)
            {
                continue;  // every key lies after every query of the run
            }
            ref float keys = ref packedKeys[keysStart + (kvHead * keyTiles.Length + t) * HeadDim * TTiles.KvRows];
            ref float values = ref packedValues[valuesStart + (kvHead * keyTiles.Length + t) * TTiles.KvRows * HeadDim];
            for (int first = 0; first < rows; first += TTiles.QRows)
            {
                var queries = run.Positions.Slice(first, Math.Min(TTiles.QRows, rows - first));
                // Blocks of a fully visible run are fully visible; otherwise each block is classified on its own.
                var blockVisibility = visibility == BlockVisibility.Full ? visibility : RingMask.Visibility(queries, tile.Positions, causal);
                if (blockVisibility != BlockVisibility.None)
                {
                    AttendBlock(w, first, queries, tile.Positions, blockVisibility == BlockVisibility.Partial, ref keys, ref values);
                }
            }
        }

        // The partial over this shard: O′ = O / l and L′ = ln Σ e^{logit} = ln(2^m·l) = (m + log₂ l)·ln 2.
        // A row that saw no key keeps L′ = −∞; it is the row with l = 0 (one that saw a key has l ≥ 1, its max
        // giving p = 1). Not m = −∞: a NaN score may be left out of m, and its row must come out NaN.
        for (int r = 0; r < rows; r++)
        {
            float sum = w.Sum[r];
            if (sum == 0f)
            {
                continue;
            }
            var destination = tensors.O.Slice((firstRow + r) * HeadDim, HeadDim);
            w.Output.Slice(r * HeadDim, HeadDim).CopyTo(destination);
            Scale(destination, 1f / sum);
            tensors.Lse[firstRow + r] = (w.Max[r] + MathF.Log2(sum)) * Ln2;
        }
    }

    /// <summary>
    /// One block of QRows query rows (rows <paramref name="first"/>… of the task, at <paramref name="queries"/>) against
    /// one tile of keys (at <paramref name="keys"/>): S = Q·Kᵀ, the mask, the online-softmax update of m and l, and
    /// O ← α·O + P·V.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void AttendBlock(Workspace w, int first, SequenceSegment queries, SequenceSegment keys, bool causalMask, ref float packedKeys, ref float values)
    {
        TTiles.Scores(in w.Queries[first * HeadDim], in packedKeys, keys.Length, ref w.Scores[0]);
        int used = keys.Length;
        if (causalMask || queries.Length < TTiles.QRows || keys.Length < TTiles.KvRows)
        {
            used = Mask(w.Scores, queries, keys, causalMask);
        }
        TTiles.Softmax(ref w.Scores[0], ref w.Max[first], ref w.Sum[first], ref w.Rescale[0]);
        TTiles.Accumulate(in w.Scores[0], in values, used, in w.Rescale[0], ref w.Output[first * HeadDim]);
    }

    /// <summary>
    /// Sets S[i, j] = −∞ where row i must not see key j: keys past the tile's end, rows past the run's end and, under the
    /// causal mask, keys after the query. Positions rise with the local index, so each row sees a prefix of the tile:
    /// for a query at position p, the keys j with keys.Start + j·keys.Stride ≤ p. Returns the longest prefix, the keys
    /// P·V has to read.
    /// </summary>
    private static int Mask(float[] scores, SequenceSegment queries, SequenceSegment keys, bool causalMask)
    {
        int longest = 0;
        for (int i = 0; i < TTiles.QRows; i++)
        {
            int visible = i < queries.Length ? keys.Length : 0;
            if (causalMask && visible > 0)
            {
                int position = queries.Position(i);
                visible = position < keys.Start ? 0 : Math.Min(keys.Length, (position - keys.Start) / keys.Stride + 1);
            }
            Array.Fill(scores, float.NegativeInfinity, i * TTiles.KvRows + visible, TTiles.KvRows - visible);
            longest = Math.Max(longest, visible);
        }
        return longest;
    }

    /// <summary>values ← values·factor, with the widest vectors this machine has (the same product per element at every width).</summary>
    private static void Scale(Span<float> values, float factor)
    {
        ref float x = ref values[0];
        int i = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            for (; i + 16 <= values.Length; i += 16)
            {
                (Vector512.LoadUnsafe(ref x, (nuint)i) * factor).StoreUnsafe(ref x, (nuint)i);
            }
        }
        if (Vector256.IsHardwareAccelerated)
        {
            for (; i + 8 <= values.Length; i += 8)
            {
                (Vector256.LoadUnsafe(ref x, (nuint)i) * factor).StoreUnsafe(ref x, (nuint)i);
            }
        }
        for (; i < values.Length; i++)
        {
            Unsafe.Add(ref x, i) *= factor;
        }
    }

    /// <summary>Cuts each segment of <paramref name="shard"/> into runs of at most <paramref name="size"/> rows, in local order.</summary>
    private static Rows[] Cut(SequenceShard shard, int size)
    {
        int count = 0;
        foreach (var segment in shard.Segments)
        {
            count += (segment.Length + size - 1) / size;
        }
        var runs = new Rows[count];
        int index = 0, start = 0;
        foreach (var segment in shard.Segments)
        {
            for (int offset = 0; offset < segment.Length; offset += size)
            {
                runs[index++] = new Rows(segment.Slice(offset, Math.Min(size, segment.Length - offset)), start + offset);
            }
            start += segment.Length;
        }
        return runs;
    }

    /// <summary>A run of local rows inside one segment of a shard: their global positions, and the local index of the first.</summary>
    private readonly record struct Rows(SequenceSegment Positions, int Start);

    /// <summary>
    /// One thread's scratch: a task's queries in fp32, its O, m and l, and one block's S (then P) and α. Kept per thread
    /// between steps, so a ring allocates it once per worker thread.
    /// </summary>
    private sealed class Workspace
    {
        [ThreadStatic]
        private static Workspace? cached;

        public readonly float[] Queries = new float[TaskRows * HeadDim];
        /// <summary>The running O of the task's rows, on whole cache lines (pinned, so its rows' vector loads never straddle two).</summary>
        private readonly float[] output = GC.AllocateArray<float>(TaskRows * HeadDim + CacheLine.Floats, pinned: true);

        private readonly int outputStart;

        public Workspace() => outputStart = CacheLine.FirstAligned(output);

        public Span<float> Output => output.AsSpan(outputStart, TaskRows * HeadDim);
        public readonly float[] Max = new float[TaskRows];
        public readonly float[] Sum = new float[TaskRows];
        public readonly float[] Scores = new float[TTiles.QRows * TTiles.KvRows];
        public readonly float[] Rescale = new float[TTiles.QRows];

        public static Workspace Rent()
        {
            var workspace = cached ?? new Workspace();
            cached = null;
            return workspace;
        }

        public static void Return(Workspace workspace) => cached = workspace;
    }
}
