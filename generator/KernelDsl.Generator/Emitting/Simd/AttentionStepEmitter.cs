using KernelDsl.Generator.Emitting.Launch;
using KernelDsl.Generator.Planning;

namespace KernelDsl.Generator.Emitting.Simd;

/// <summary>
/// Prints the part of the CPU attention fallback that no instruction set changes: the kernel's constants
/// and the shared helpers (<c>CpuAttention</c>), the interface through which the step reaches each width's
/// vector math (<c>ICpuAttentionTiles</c>), and the step itself (<c>CpuAttentionStep&lt;TTiles&gt;</c>: copies,
/// K/V packing, the parallel loops over heads and query rows, masks, online softmax, the merge).
/// <see cref="SimdAttentionEmitter"/> prints the per-width structs that plug into it.
/// </summary>
internal static class AttentionStepEmitter
{
    public const string Shared = "CpuAttention";
    public const string Tiles = "ICpuAttentionTiles";
    public const string Step = "CpuAttentionStep";

    private const string Unsafe = "global::System.Runtime.CompilerServices.Unsafe";
    private const string Ring = "global::KernelDsl.Ring";
    private const string Optimized = "[global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]";

    public static void Emit(CodeWriter w, AttentionPlan plan)
    {
        var elements = new CpuElements(plan.Element, plan.Element);
        EmitShared(w, plan, elements);
        w.Line();
        EmitInterface(w, elements);
        w.Line();
        EmitStep(w, elements);
    }

    private static void EmitShared(CodeWriter w, AttentionPlan plan, CpuElements elements)
    {
        string t = elements.InputType;
        string asFloat = elements.AsFloat($"{Unsafe}.Add(ref from, j * HeadDim)");
        w.Lines($$"""
            /// <summary>
            /// The CPU fallback's shared part: this kernel's constants, the cutting of shards into runs of rows, the
            /// packing of K and the final conversion. The block kernel structs (one per vector width) supply the
            /// vector math, <see cref="{{Step}}{TTiles}"/> the loops and threads around it.
            /// </summary>
            private static class {{Shared}}
            {
                /// <summary>Head dimension d: each row of Q, K, V and O holds this many values.</summary>
                public const int HeadDim = {{Invariant.Int(plan.HeadDim)}};

                /// <summary>Softmax scale applied to q·k.</summary>
                public const float Scale = {{AttentionLaunchEmitter.Float(plan.Scale)}};

                /// <summary>
                /// Scale·log₂e. With it e^{Scale·s − M} = 2^{ScaleLog2·s − m} (s = q·k, m = M·log₂e). The queries are
                /// multiplied by it as a task loads them, so scores, the running max m and the exponents are all in log₂
                /// units and each probability is one subtraction and one exp2.
                /// </summary>
                public const float ScaleLog2 = {{AttentionLaunchEmitter.Float(plan.ScaleLog2)}};

                /// <summary>ln 2: turns a log-sum-exp in log₂ units into the natural log of the ring state.</summary>
                public const float Ln2 = 0.6931472f;

                /// <summary>Throws unless the step has the head dimension and scale this code is specialised for.</summary>
                public static void CheckArguments(in {{Ring}}.AttentionStepArguments arguments)
                {
                    if (arguments.HeadDim != HeadDim)
                    {
                        throw new global::System.ArgumentException($"This kernel is generated for HeadDim = {HeadDim}, got {arguments.HeadDim}.", nameof(arguments));
                    }
                    if (arguments.Scale != Scale)
                    {
                        throw new global::System.ArgumentException($"This kernel is generated for Scale = {Scale}, got {arguments.Scale}.", nameof(arguments));
                    }
                }

                /// <summary>A run of local rows inside one segment of a shard: their global positions, and the local index of the first.</summary>
                public readonly record struct Rows({{Ring}}.SequenceSegment Positions, int Start);

                /// <summary>Cuts each segment of <paramref name="shard"/> into runs of at most <paramref name="size"/> rows, in local order.</summary>
                public static Rows[] Cut({{Ring}}.SequenceShard shard, int size)
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
                            runs[index++] = new Rows(segment.Slice(offset, global::System.Math.Min(size, segment.Length - offset)), start + offset);
                        }
                        start += segment.Length;
                    }
                    return runs;
                }

                /// <summary>
                /// Packs a tile of K (<paramref name="rows"/> rows of HeadDim values) as Kᵀ in fp32:
                /// packed[c·kvRows + j] = k[j·HeadDim + c], and 0 for j from rows to kvRows. Each head dimension's
                /// keys are then one contiguous run of vectors, which S = Q·Kᵀ loads while it broadcasts q.
                /// </summary>
                public static void PackKeys(ref readonly {{t}} keys, int rows, int kvRows, ref float packed)
                {
                    for (int c = 0; c < HeadDim; c++)
                    {
                        ref {{t}} from = ref {{Unsafe}}.Add(ref {{Unsafe}}.AsRef(in keys), c);
                        ref float to = ref {{Unsafe}}.Add(ref packed, c * kvRows);
                        for (int j = 0; j < rows; j++)
                        {
                            {{Unsafe}}.Add(ref to, j) = {{asFloat}};
                        }
                        for (int j = rows; j < kvRows; j++)
                        {
                            {{Unsafe}}.Add(ref to, j) = 0f;
                        }
                    }
                }

                /// <summary>Writes the running state out: O {{FinalizeRule(elements)}}, L as it is.</summary>
                public static void Finalize(global::System.ReadOnlySpan<float> runningO, global::System.ReadOnlySpan<float> runningLse, global::System.Span<{{t}}> o, global::System.Span<float> lse)
                {
            """);
        if (elements.WidensInput)
        {
            w.Lines($$"""
                        for (int i = 0; i < runningO.Length; i++)
                        {
                            o[i] = ({{t}})runningO[i];
                        }
                """);
        }
        else
        {
            w.Line("        runningO.CopyTo(o);");
        }
        w.Lines("""
                    runningLse.CopyTo(lse);
                }
            }
            """);
    }

    private static string FinalizeRule(CpuElements elements) => elements.WidensInput
        ? $"rounded to nearest even {CpuElements.Describe(elements.Input)}"
        : "copied";

    private static void EmitInterface(CodeWriter w, CpuElements elements)
    {
        string t = elements.InputType;
        w.Lines($$"""
            /// <summary>
            /// The vector math of one instruction set, which each block kernel struct supplies to
            /// <see cref="{{Step}}{TTiles}"/>. Static abstract members: the step's generic code is compiled once per
            /// struct, with these calls bound directly.
            /// </summary>
            private interface {{Tiles}}
            {
                /// <summary>Query rows of one register tile: they share every K and V load.</summary>
                static abstract int QRows { get; }

                /// <summary>Keys per K/V tile.</summary>
                static abstract int KvRows { get; }

                /// <summary>Query rows of one parallel task, a multiple of <see cref="QRows"/>.</summary>
                static abstract int TaskRows { get; }

                /// <summary>Steps with fewer useful flops (4·heads·Sq·Skv·d) run on the calling thread only.</summary>
                static abstract long ParallelFlops { get; }

                /// <summary>Q·ScaleLog2 in fp32 for <paramref name="count"/> values (a multiple of HeadDim): scores in log₂ units.</summary>
                static abstract void LoadQueries(ref readonly {{t}} source, int count, ref float destination);
            """);
        w.Line();
        if (elements.WidensInput)
        {
            w.Lines($$"""
                    /// <summary>Widens <paramref name="count"/> values (a multiple of HeadDim) to fp32.</summary>
                    static abstract void Widen(ref readonly {{t}} source, int count, ref float destination);
                """);
            w.Line();
        }
        w.Lines("""
                /// <summary>
                /// S = Q·Kᵀ for a block of QRows query rows (fp32, HeadDim apart) against the first
                /// <paramref name="count"/> keys of a packed Kᵀ tile; row i of S at scores[i·KvRows]. In log₂ units, since
                /// the queries came through LoadQueries.
                /// </summary>
                static abstract void Scores(ref readonly float queries, ref readonly float keys, int count, ref float scores);

                /// <summary>
                /// The online-softmax update of one block's QRows rows of S (log₂ units), in place over S, and of their m,
                /// l (updated) and α (written), each QRows consecutive floats.
                /// </summary>
                static abstract void Softmax(ref float scores, ref float max, ref float sum, ref float rescale);

                /// <summary>
                /// O ← αᵢ·O + P·V for the block's QRows rows of O (HeadDim apart): P is QRows × <paramref name="keys"/>
                /// (rows KvRows apart), V is <paramref name="keys"/> rows of HeadDim fp32 values, α one factor per row.
                /// </summary>
                static abstract void Accumulate(ref readonly float probabilities, ref readonly float values, int keys, ref readonly float rescale, ref float output);

                /// <summary>destination = output·<paramref name="factor"/> over one row of HeadDim values.</summary>
                static abstract void Normalize(ref readonly float output, float factor, ref float destination);
            }
            """);
    }

    private static void EmitStep(CodeWriter w, CpuElements elements)
    {
        string t = elements.InputType;
        bool widens = elements.WidensInput;
        string span = $"global::System.ReadOnlySpan<{t}>";
        string tensors = $"{Ring}.PinnedAttentionTensors<{t}>";
        string floats = "global::System.Buffers.ArrayPool<float>.Shared";
        w.Lines($$"""
            /// <summary>
            /// One ring step on the CPU, FlashAttention-2 forward, with the vector math of <typeparamref name="TTiles"/>:
            /// <list type="number">
            /// <item><description>Q, K, V and the output state are pinned and read in place (<see cref="{{Ring}}.PinnedAttentionTensors{TElement}"/>: worker threads cannot hold spans).</description></item>
            /// <item><description>Each K/V tile of KvRows keys is packed once, in parallel over (K/V head, tile): K as fp32 Kᵀ{{(widens ? ", V widened to fp32" : "; V is read in place")}}.</description></item>
            /// <item><description>
            /// In parallel over (head, TaskRows query rows), query head h reading K/V head h / (heads / kvHeads): for each
            /// tile the rows can see, for each block of QRows rows, S = Q·Kᵀ, the mask (none on a fully visible block),
            /// the online softmax with an fp32 running max m (log₂ units) and sum l, and O ← α·O + P·V. At the end the
            /// partial over this shard is O′ = O / l, L′ = (m + log₂ l)·ln 2.
            /// </description></item>
            /// <item><description>
            /// Into a fresh running state (<see cref="{{Ring}}.AttentionStepArguments.StateIsInitial"/>) the partials are written
            /// directly; otherwise into pooled arrays, then merged into the running state by <see cref="{{Ring}}.AttentionMerge"/>.
            /// Either way a row that saw no key stays unchanged.
            /// </description></item>
            /// </list>
            /// Every row's result is computed by one thread in a fixed order, so the output does not depend on scheduling.
            /// </summary>
            private sealed class {{Step}}<TTiles>
                where TTiles : struct, {{Tiles}}
            {
                private const int HeadDim = {{Shared}}.HeadDim;

                private readonly int heads;
                private readonly int kvHeads;
                private readonly int group;
                private readonly int queryLength;
                private readonly int keyLength;
                private readonly bool causal;
                private readonly {{tensors}} tensors;
                private readonly {{Shared}}.Rows[] queryRuns;
                private readonly {{Shared}}.Rows[] keyTiles;
                private readonly float[] packedKeys;
            """);
        if (widens)
        {
            w.Line("    private readonly float[] packedValues;");
        }
        w.Lines($$"""

                private {{Step}}(in {{Ring}}.AttentionStepArguments arguments, {{tensors}} tensors)
                {
                    heads = arguments.Heads;
                    kvHeads = arguments.KvHeads;
                    group = arguments.GroupSize;
                    queryLength = arguments.QueryLength;
                    keyLength = arguments.KeyLength;
                    causal = arguments.Causal;
                    this.tensors = tensors;
                    queryRuns = {{Shared}}.Cut(arguments.QueryShard, TTiles.TaskRows);
                    keyTiles = {{Shared}}.Cut(arguments.KeyShard, TTiles.KvRows);
                    packedKeys = {{floats}}.Rent(kvHeads * keyTiles.Length * HeadDim * TTiles.KvRows);
            """);
        if (widens)
        {
            w.Line("        packedValues = " + floats + ".Rent(kvHeads * keyTiles.Length * TTiles.KvRows * HeadDim);");
        }
        w.Lines($$"""
                }

                /// <summary>The step: the partial attention of every local query over this K/V shard, merged into the running state.</summary>
                public static void Run(in {{Ring}}.AttentionStepArguments arguments, {{span}} q, {{span}} k, {{span}} v, global::System.Span<float> runningO, global::System.Span<float> runningLse)
                {
                    {{Shared}}.CheckArguments(in arguments);
                    if (arguments.QueryLength == 0 || arguments.KeyLength == 0)
                    {
                        return;
                    }
                    if (arguments.StateIsInitial)
                    {
                        {{tensors}}.Pin(in arguments, q, k, v, runningO, runningLse, RunPinned);
                        return;
                    }
                    int rows = arguments.Heads * arguments.QueryLength;
                    float[] partialO = {{floats}}.Rent(rows * HeadDim);
                    float[] partialLse = {{floats}}.Rent(rows);
                    try
                    {
                        // L′ = −∞ marks a row with no visible key in this shard: the merge leaves its running state as it is.
                        var outputO = new global::System.Span<float>(partialO, 0, rows * HeadDim);
                        var outputLse = new global::System.Span<float>(partialLse, 0, rows);
                        outputLse.Fill(float.NegativeInfinity);
                        {{tensors}}.Pin(in arguments, q, k, v, outputO, outputLse, RunPinned);
                        {{Ring}}.AttentionMerge.MergeRows(runningO, runningLse, outputO, outputLse, HeadDim);
                    }
                    finally
                    {
                        {{floats}}.Return(partialO);
                        {{floats}}.Return(partialLse);
                    }
                }

                private static void RunPinned(in {{Ring}}.AttentionStepArguments arguments, {{tensors}} tensors)
                {
                    var step = new {{Step}}<TTiles>(in arguments, tensors);
                    try
                    {
                        step.Execute();
                    }
                    finally
                    {
                        step.Return();
                    }
                }

                private void Execute()
                {
                    long flops = 4L * heads * queryLength * keyLength * HeadDim;
                    int packs = kvHeads * keyTiles.Length;
                    int tasks = heads * queryRuns.Length;
                    if (flops >= TTiles.ParallelFlops && global::System.Environment.ProcessorCount > 1)
                    {
                        global::System.Threading.Tasks.Parallel.For(0, packs, PackTile);
                        global::System.Threading.Tasks.Parallel.For(0, tasks, Workspace.Rent, (task, _, workspace) =>
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

                /// <summary>Pack task: tile t of one K/V head, K as fp32 Kᵀ{{(widens ? " and V widened to fp32" : "")}}.</summary>
                private void PackTile(int index)
                {
                    int kvHead = index / keyTiles.Length, t = index % keyTiles.Length;
                    var tile = keyTiles[t];
                    int source = (kvHead * keyLength + tile.Start) * HeadDim;
                    int packed = (kvHead * keyTiles.Length + t) * HeadDim * TTiles.KvRows;
                    {{Shared}}.PackKeys(in tensors.K[source], tile.Positions.Length, TTiles.KvRows, ref packedKeys[packed]);
            """);
        if (widens)
        {
            w.Line("        TTiles.Widen(in tensors.V[source], tile.Positions.Length * HeadDim, ref packedValues[packed]);");
        }
        string valuesRef = widens
            ? "ref packedValues[(kvHead * keyTiles.Length + t) * TTiles.KvRows * HeadDim]"
            : "ref tensors.V[(kvHead * keyLength + tile.Start) * HeadDim]";
        const string loadQueries = "TTiles.LoadQueries(in tensors.Q[firstRow * HeadDim], rows * HeadDim, ref w.Queries[0]);";
        w.Lines($$"""
                }

                /// <summary>
                /// Task <paramref name="task"/>: the partial attention of one run of at most TaskRows query rows of one head
                /// over this K/V shard, written to the pinned output O and L.
                /// </summary>
                {{Optimized}}
                private void Attend(int task, Workspace w)
                {
                    int head = task / queryRuns.Length;
                    var run = queryRuns[task % queryRuns.Length];
                    int kvHead = head / group;
                    int rows = run.Positions.Length;
                    int blocks = (rows + TTiles.QRows - 1) / TTiles.QRows;
                    int padded = blocks * TTiles.QRows;
                    int firstRow = head * queryLength + run.Start;

                    // The run's queries in fp32, zero rows up to whole blocks; O = 0, m = −∞, l = 0: no key seen yet.
                    {{loadQueries}}
                    global::System.Array.Clear(w.Queries, rows * HeadDim, (padded - rows) * HeadDim);
                    global::System.Array.Clear(w.Output, 0, padded * HeadDim);
                    global::System.Array.Fill(w.Max, float.NegativeInfinity, 0, padded);
                    global::System.Array.Clear(w.Sum, 0, padded);

                    for (int t = 0; t < keyTiles.Length; t++)
                    {
                        var tile = keyTiles[t];
                        var visibility = {{Ring}}.RingMask.Visibility(run.Positions, tile.Positions, causal);
                        if (visibility == {{Ring}}.BlockVisibility.None)
                        {
                            continue;  // every key lies after every query of the run
                        }
                        ref float keys = ref packedKeys[(kvHead * keyTiles.Length + t) * HeadDim * TTiles.KvRows];
                        ref float values = {{valuesRef}};
                        for (int first = 0; first < rows; first += TTiles.QRows)
                        {
                            var queries = run.Positions.Slice(first, global::System.Math.Min(TTiles.QRows, rows - first));
                            // Blocks of a fully visible run are fully visible; otherwise each block is classified on its own.
                            var blockVisibility = visibility == {{Ring}}.BlockVisibility.Full
                                ? visibility
                                : {{Ring}}.RingMask.Visibility(queries, tile.Positions, causal);
                            if (blockVisibility != {{Ring}}.BlockVisibility.None)
                            {
                                AttendBlock(w, first, queries, tile.Positions, blockVisibility == {{Ring}}.BlockVisibility.Partial, ref keys, ref values);
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
                        float max = w.Max[r];
                        TTiles.Normalize(in w.Output[r * HeadDim], 1f / sum, ref tensors.O[(firstRow + r) * HeadDim]);
                        tensors.Lse[firstRow + r] = (max + global::System.MathF.Log2(sum)) * {{Shared}}.Ln2;
                    }
                }

                /// <summary>
                /// One block of QRows query rows (rows <paramref name="first"/>… of the task, at <paramref name="queries"/>)
                /// against one tile of keys (at <paramref name="keys"/>): S = Q·Kᵀ, the mask, the online-softmax update of
                /// m and l, and O ← α·O + P·V.
                /// </summary>
                {{Optimized}}
                private static void AttendBlock(Workspace w, int first, {{Ring}}.SequenceSegment queries, {{Ring}}.SequenceSegment keys, bool causalMask, ref float packedKeys, ref float values)
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
                /// Sets S[i, j] = −∞ where row i must not see key j: keys past the tile's end, rows past the run's end and,
                /// under the causal mask, keys after the query. Positions rise with the local index, so each row sees a
                /// prefix of the tile: for a query at position p, the keys j with keys.Start + j·keys.Stride ≤ p.
                /// Returns the longest prefix, the keys P·V has to read.
                /// </summary>
                private static int Mask(float[] scores, {{Ring}}.SequenceSegment queries, {{Ring}}.SequenceSegment keys, bool causalMask)
                {
                    int longest = 0;
                    for (int i = 0; i < TTiles.QRows; i++)
                    {
                        int visible = i < queries.Length ? keys.Length : 0;
                        if (causalMask && visible > 0)
                        {
                            int position = queries.Position(i);
                            visible = position < keys.Start ? 0 : global::System.Math.Min(keys.Length, (position - keys.Start) / keys.Stride + 1);
                        }
                        global::System.Array.Fill(scores, float.NegativeInfinity, i * TTiles.KvRows + visible, TTiles.KvRows - visible);
                        longest = global::System.Math.Max(longest, visible);
                    }
                    return longest;
                }

                private void Return()
                {
                    {{floats}}.Return(packedKeys);
            """);
        if (widens)
        {
            w.Line($"        {floats}.Return(packedValues);");
        }
        w.Lines($$"""
                }

                /// <summary>
                /// One thread's scratch: a task's queries in fp32, its O, m and l, and one block's S (then P) and α.
                /// Kept per thread between steps, so a ring allocates it once per worker thread.
                /// </summary>
                private sealed class Workspace
                {
                    [global::System.ThreadStatic]
                    private static Workspace? cached;

                    public readonly float[] Queries = new float[TTiles.TaskRows * HeadDim];
                    public readonly float[] Output = new float[TTiles.TaskRows * HeadDim];
                    public readonly float[] Max = new float[TTiles.TaskRows];
                    public readonly float[] Sum = new float[TTiles.TaskRows];
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
            """);
    }
}
