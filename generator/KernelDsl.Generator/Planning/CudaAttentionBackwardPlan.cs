namespace KernelDsl.Generator.Planning;

/// <summary>
/// CUDA tiling of the backward step kernel (FlashAttention-2 backward): a block owns TileKv keys of one K/V head,
/// <see cref="KeysPerWarp"/> per warp, and keeps their dK and dV in fp32 registers while it walks the query tiles of
/// every query head that reads that K/V head, TileQ rows at a time, Q and dO double-buffered in shared memory. Per
/// query tile a warp recomputes Sᵀ = K·Qᵀ for its keys, forms Pᵀ, dPᵀ = V·dOᵀ and dSᵀ, adds Pᵀ·dO to dV and dSᵀ·Q to
/// dK, and leaves dSᵀ in shared memory, from which the block adds dS·K to the fp32 dQ in global memory (one atomic
/// add per element and block). 16-bit elements run on tensor cores (m16n8k16 MMAs, 16 keys per warp: one MMA row
/// tile); fp32 elements on CUDA cores, where the warp's lanes form a grid of <see cref="SimtKeyLanes"/> key rows by
/// <see cref="SimtColumnLanes"/> columns (queries for Sᵀ, 16-byte chunks of head dimensions for dK and dV).
/// </summary>
/// <param name="TensorCores">16-bit elements: MMA path; fp32: SIMT path.</param>
internal sealed record CudaAttentionBackwardPlan(int TileQ, int KeysPerWarp, int Warps, int HeadDim, bool TensorCores)
{
    /// <summary>Q/dO tiles in flight: the next tile's copies overlap the current tile's math.</summary>
    public const int QStages = 2;

    /// <summary>Warps of a delta-kernel block (D = rowsum(dO ∘ O)), one query row per warp and pass.</summary>
    public const int DeltaWarps = 8;

    /// <summary>
    /// Warps per block. (FlashAttention-2's sm_80 kernels take 128 keys over 8 warps in a 2 × 4 grid, which shares Q
    /// and dO fragments between warps; here each warp owns whole rows of dK and dV.)
    /// </summary>
    public const int DefaultWarps = 4;

    /// <summary>
    /// The limit on <see cref="LiveValuesPerThread"/> on tensor cores: the backward step has no online softmax (no running
    /// max, sum or rescale), so it keeps fewer values beside its accumulators than the forward step. NvrtcAttentionTests
    /// holds every planned backward kernel to 0 spills.
    /// </summary>
    public const int LiveValueTarget = 176;

    /// <summary>
    /// The same limit on CUDA cores, lower: every float4 read of the lane grid has its own swizzled address, where one
    /// ldmatrix address serves a whole fragment, so the SIMT step needs more registers beside the values counted.
    /// </summary>
    public const int SimtLiveValueTarget = 128;

    /// <summary>The SIMT lane grid: 4 rows of lanes over the warp's keys, 8 columns over queries or head-dim chunks.</summary>
    public const int SimtKeyLanes = 4, SimtColumnLanes = 8;

    /// <summary>Query tiles tried, largest first, for each keys-per-warp candidate.</summary>
    private static readonly int[] QCandidates = [64, 32, 16];

    /// <summary>Keys per warp tried on CUDA cores, most first (tensor cores: one 16-row MMA tile).</summary>
    private static readonly int[] SimtKeyCandidates = [16, 8, 4];

    public int TileKv => KeysPerWarp * Warps;

    public int Threads => 32 * Warps;

    public int ElementBytes => TensorCores ? 2 : 4;

    /// <summary>16-byte chunks per row of a K, V, Q or dO tile (8 16-bit elements or 4 floats each).</summary>
    public int Chunks => HeadDim * ElementBytes / 16;

    /// <summary>The same XOR swizzle as the forward's tiles (rows of d elements).</summary>
    public ChunkSwizzle Swizzle => ChunkSwizzle.For(Chunks);

    /// <summary>SIMT: a lane's keys (rows lane_k + 4 i of the warp's keys).</summary>
    public int SimtKeysPerLane => KeysPerWarp / SimtKeyLanes;

    /// <summary>SIMT: a lane's head-dim chunks for dK and dV (chunk lane_c + 8 c, where it is below <see cref="Chunks"/>).</summary>
    public int SimtChunksPerLane => (Chunks + SimtColumnLanes - 1) / SimtColumnLanes;

    /// <summary>
    /// Elements per row of the dSᵀ buffer [TileKv][TileQ] (and, SIMT, of the Pᵀ buffer beside it): 8 elements of
    /// padding. 16-bit: one 16-byte chunk, so the 8 rows an ldmatrix reads, and the 8 rows of a warp's 4-byte stores,
    /// start 4 banks apart. fp32: TileQ + 8 ≡ 8 or 24 (mod 32), so the 4 key rows of the lane grid, each written and
    /// read at 8 consecutive columns, fall into 4 disjoint groups of 8 banks. Conflict-free either way.
    /// </summary>
    public int DsStride => TileQ + 8;

    /// <summary>K and V once, <see cref="QStages"/> × (Q, dO), their rows' L and D in fp32, then dSᵀ (SIMT: and Pᵀ).</summary>
    public long SharedBytes => (2L * TileKv * HeadDim + QStages * 2L * TileQ * HeadDim) * ElementBytes + QStages * 2L * TileQ * 4
        + (TensorCores ? 1 : 2) * (long)TileKv * DsStride * ElementBytes;

    /// <summary>
    /// 32-bit values a thread keeps live. Tensor cores: dK and dV (2·16·d/32), Sᵀ/Pᵀ and dPᵀ/dSᵀ of one query tile
    /// (2·16·TileQ/32), and a d-step's operands (the A fragment and TileQ/16 B fragments of 4 registers). SIMT: dK and
    /// dV of the lane's keys and chunks, plus the larger of the two phases' other values: Sᵀ and dPᵀ of its keys × TileQ/8
    /// queries with one float4 per key and per query in flight, or a query's Pᵀ and dSᵀ for its keys with one float4 of dO
    /// and of Q in flight.
    /// </summary>
    public int LiveValuesPerThread => TensorCores
        ? HeadDim + TileQ + 4 + TileQ / 4
        : 2 * SimtKeysPerLane * SimtChunksPerLane * 4
          + System.Math.Max(2 * SimtKeysPerLane * (TileQ / SimtColumnLanes) + 4 * SimtKeysPerLane + 4 * (TileQ / SimtColumnLanes),
                            8 + 2 * SimtKeysPerLane);

    /// <summary>
    /// The plan with the most keys per warp, then the largest query tile, whose live values stay within
    /// <see cref="LiveValueTarget"/> (<see cref="SimtLiveValueTarget"/>) and whose shared memory fits <paramref name="sharedLimit"/>; null when none does
    /// (16-bit d = 256: dK and dV of 16 keys alone take 256 values).
    /// </summary>
    public static CudaAttentionBackwardPlan? For(int headDim, bool tensorCores, long sharedLimit)
    {
        foreach (int keys in tensorCores ? [16] : SimtKeyCandidates)
        {
            foreach (int q in QCandidates)
            {
                var plan = new CudaAttentionBackwardPlan(q, keys, DefaultWarps, headDim, tensorCores);
                if (plan.LiveValuesPerThread <= (tensorCores ? LiveValueTarget : SimtLiveValueTarget) && plan.SharedBytes <= sharedLimit)
                {
                    return plan;
                }
            }
        }
        return null;
    }
}
