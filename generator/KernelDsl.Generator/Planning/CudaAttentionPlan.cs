namespace KernelDsl.Generator.Planning;

/// <summary>
/// CUDA tiling of the attention step kernel (FlashAttention-2 forward): a block owns TileQ query rows of
/// one head, split over Warps warps of RowsPerWarp rows; it walks the KV shard TileKv keys at a time,
/// K and V double-buffered in shared memory by cp.async while the current tile is multiplied.
/// Inside a tile, the online softmax advances <see cref="KeyStep"/> keys at a time, which bounds the S values a
/// lane holds. On tensor cores (16-bit elements) S = Q·Kᵀ and O += P·V are m16n8k16 MMAs; in fp32 the lanes of a
/// warp form a <see cref="SimtLanes"/> grid: a lane owns a few rows and, of them, a few keys of each key step (S)
/// and a few 16-byte chunks of head dimensions (O), with P passed from S to O through a per-warp shared buffer.
/// </summary>
/// <param name="TensorCores">16-bit elements: MMA path; fp32: SIMT path.</param>
/// <param name="ElementBytes">Bytes per Q/K/V element in shared memory.</param>
internal sealed record CudaAttentionPlan(int TileQ, int TileKv, int Warps, int HeadDim, bool TensorCores, int ElementBytes)
{
    /// <summary>K and V tiles are double-buffered: the next tile's copies overlap the current tile's math.</summary>
    public const int KvStages = 2;

    public int Threads => Warps * 32;

    public int RowsPerWarp => TileQ / Warps;

    /// <summary>16-byte chunks per row of a Q, K or V tile (a row is one token's HeadDim elements).</summary>
    public int Chunks => HeadDim * ElementBytes / 16;

    /// <summary>Elements per 16-byte chunk: 8 16-bit values or 4 floats.</summary>
    public int ChunkElements => 16 / ElementBytes;

    /// <summary>XOR swizzle of the Q, K and V tiles: chunk c of row r is stored at c ^ ((r / RowGroup) % Span).</summary>
    public ChunkSwizzle Swizzle { get; } = ChunkSwizzle.For(HeadDim * ElementBytes / 16);

    /// <summary>The fp32 path's lane grid, decided once (meaningful when <see cref="TensorCores"/> is false).</summary>
    public SimtAttentionLanes SimtLanes { get; } = SimtAttentionLanes.For(TileQ / Warps, TileKv, HeadDim);

    /// <summary>
    /// Keys per online-softmax step inside a KV tile, decided once at construction: S is built, softmaxed and multiplied into O KeyStep
    /// keys at a time, so a lane holds one step's S values, not a whole tile's. Tensor cores: <see cref="MmaKeyStepOf"/>;
    /// fp32: <see cref="SimtAttentionLanes.KeyStep"/>.
    /// </summary>
    public int KeyStep => TensorCores ? mmaKeyStep : SimtLanes.KeyStep;

    private readonly int mmaKeyStep = MmaKeyStepOf(TileQ / Warps, TileKv, HeadDim);

    /// <summary>
    /// Floats between rows of the SIMT path's per-warp P buffer: the least count ≥ TileKv that is ≡ the lane grid's
    /// Cols (mod 32). Lane (row r, col c) writes P at column c + Cols·j of row r, bank (r·PStride + c + Cols·j) mod 32
    /// = (r·Cols + c + const) mod 32: the 32 lanes of a grid hit 32 different banks.
    /// </summary>
    public int PStride => TileKv + ((SimtLanes.Cols - TileKv) % 32 + 32) % 32;

    /// <summary>Bytes of the Q tile plus both K/V stages; the SIMT P buffer follows.</summary>
    public long TileBytes => ((long)TileQ + 2L * KvStages * TileKv) * HeadDim * ElementBytes;

    /// <summary>
    /// The Q tile once, K and V tiles per stage, no padding (the swizzle keeps ldmatrix conflict-free); 4-byte
    /// elements (the SIMT path) add the P buffer: TileQ rows of <see cref="PStride"/> floats. The planner checks it
    /// against the architecture's limit before the plan is emitted.
    /// </summary>
    public long SharedBytes => TileBytes + (TensorCores ? 0 : (long)TileQ * PStride * 4);

    /// <summary>
    /// The 32-bit values a thread keeps live through the inner loops, counted where the step holds the most.
    /// Tensor cores: the O accumulators (RowsPerWarp·d/32) and one key step of S (RowsPerWarp·KeyStep/32), plus the
    /// larger of the S product's operands in flight — a d-step's Q fragments (RowsPerWarp/4) and K fragments (KeyStep/4:
    /// one ldmatrix.x4 per 16 keys, each into registers of its own) — and the O product's V fragments in flight
    /// (4·<see cref="VFragmentsInFlight"/>; P's fragments take the place of the S values they pack). fp32: with the lane grid's TR rows, TC keys per step and
    /// the warp's active lanes, RowsPerWarp·d/active + TR·TC + 4·TR (a float4 of Q per row).
    /// </summary>
    public int LiveValuesPerThread => (int)(TensorCores
        ? MmaLiveValues(RowsPerWarp, KeyStep, HeadDim)
        : (long)RowsPerWarp * HeadDim / SimtLanes.Active + RowsPerWarp / SimtLanes.Rows * (KeyStep / SimtLanes.Cols) + 4 * (RowsPerWarp / SimtLanes.Rows));

    /// <summary>
    /// Tensor cores: ldmatrix.x4.trans of V (two 8-wide n-tiles of O each) issued together before their MMAs: two where
    /// they divide d/16 (the loads per 16 keys), else one. Two in flight hide the load behind the previous pair's MMAs;
    /// at d = 128 four cost 8 more registers, which the 32-row warp tile does not have.
    /// </summary>
    public int VFragmentsInFlight => VGroupOf(HeadDim);

    /// <summary>
    /// The step kernel's launch-bounds occupancy hint: one block per SM, so ptxas may give a thread up to
    /// 65,536 / Threads registers rather than squeeze them to fit two blocks (the live values were budgeted for one).
    /// </summary>
    public int MinBlocksPerMultiprocessor => 1;

    /// <summary>
    /// Threads of a finalize block, which turns the running (O, log-sum-exp) into the output in a grid-stride loop,
    /// four elements of O per thread and step: eight whole warps, on every architecture.
    /// </summary>
    public int FinalizeThreads => 256;

    /// <summary>
    /// The plan's limit on <see cref="LiveValuesPerThread"/> (the planner's budget is the same figure). ptxas allocates
    /// registers beside the live values (addresses, loop state, masks, the exponentials in flight); the limit leaves room
    /// for them within 255 without spills, and NvrtcAttentionTests holds every planned kernel to that (registers in
    /// docs/BENCHMARKS.md).
    /// </summary>
    public const int LiveValueTarget = 168;

    /// <summary>
    /// Tensor cores: the largest multiple of 16 dividing <paramref name="tileKv"/> whose live values stay within
    /// <see cref="LiveValueTarget"/>; 16 if none does (planning then rejects the tile). Long steps reload Q fragments
    /// less often (fewer ldmatrix per MMA); short ones leave room for O.
    /// </summary>
    private static int MmaKeyStepOf(int rowsPerWarp, int tileKv, int headDim)
    {
        int step = 16;
        for (int keys = 16; keys <= tileKv; keys += 16)
        {
            if (tileKv % keys == 0 && MmaLiveValues(rowsPerWarp, keys, headDim) <= LiveValueTarget)
            {
                step = keys;
            }
        }
        return step;
    }

    private static long MmaLiveValues(int rowsPerWarp, int keyStep, int headDim)
    {
        long held = ((long)rowsPerWarp * headDim + (long)rowsPerWarp * keyStep) / 32;
        long sProduct = rowsPerWarp / 4 + keyStep / 4, oProduct = 4 * VGroupOf(headDim);
        return held + System.Math.Max(sProduct, oProduct);
    }

    private static int VGroupOf(int headDim) => (headDim / 16) % 2 == 0 ? 2 : 1;
}

/// <summary>
/// The fp32 path's lanes: a Rows × Cols grid (lane = row · Cols + col). A lane owns query rows
/// row + Rows·i (i &lt; RowsPerWarp / Rows); a KV tile is taken KeyStep keys at a time, of which the lane computes
/// S for keys col + Cols·j; for O it accumulates the 16-byte chunks (4 head dimensions) col + Cols·c. Rows are the
/// same in both phases, so a lane keeps its rows' running max and sum to itself, and row reductions are
/// butterflies over the Cols lanes of a row group.
/// </summary>
/// <param name="Rows">Lanes along the query rows (a power of two dividing RowsPerWarp).</param>
/// <param name="Cols">Lanes along keys and head-dimension chunks (a power of two dividing both counts).</param>
/// <param name="Active">Rows·Cols; when below 32, lane l computes what lane l % Active does and writes nothing.</param>
/// <param name="KeyStep">Keys per softmax step inside a KV tile: a lane holds (RowsPerWarp / Rows)·(KeyStep / Cols) scores, not a whole tile's.</param>
internal sealed record SimtAttentionLanes(int Rows, int Cols, int Active, int KeyStep)
{
    /// <summary>A lane's S values per key step are kept at or under this (with O's, the registers that stay live).</summary>
    public const int MaxStepScores = 16;

    /// <summary>
    /// Among grids that use all 32 lanes, the one with the fewest rows + head-dimension chunks per lane (a lane
    /// loads its rows' Q and P and its chunks' V, and keeps per-row state), fewer rows on a tie. With odd row
    /// counts no full grid may exist; then the one with the most active lanes, the rest mirroring. The key step
    /// is the largest divisor of the tile (a multiple of 4 and of Cols) that keeps a lane's S at
    /// <see cref="MaxStepScores"/> values or fewer.
    /// </summary>
    public static SimtAttentionLanes For(int rowsPerWarp, int tileKv, int headDim)
    {
        int chunks = headDim / 4;
        (int Rows, int Cols)? best = null;
        int bestActive = 0, bestCost = int.MaxValue;
        for (int rows = 1; rows <= 32 && rowsPerWarp % rows == 0; rows *= 2)
        {
            int cols = 32 / rows;
            while (cols > 1 && (tileKv % cols != 0 || chunks % cols != 0))
            {
                cols /= 2;
            }
            int cost = rowsPerWarp / rows + chunks / cols;
            if (rows * cols > bestActive || (rows * cols == bestActive && cost <= bestCost))
            {
                best = (rows, cols);
                bestActive = rows * cols;
                bestCost = cost;
            }
        }
        var (r, c) = best!.Value;
        int unit = System.Math.Max(c, 4), step = unit;
        for (int candidate = unit; candidate <= tileKv; candidate += unit)
        {
            if (tileKv % candidate == 0 && rowsPerWarp / r * (candidate / c) <= MaxStepScores)
            {
                step = candidate;
            }
        }
        return new SimtAttentionLanes(r, c, r * c, step);
    }
}
