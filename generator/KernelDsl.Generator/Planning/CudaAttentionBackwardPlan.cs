namespace KernelDsl.Generator.Planning;

/// <summary>
/// CUDA tiling of the backward step kernel (FlashAttention-2 backward, 16-bit elements on tensor cores): a block owns
/// TileKv keys of one K/V head, <see cref="KeysPerWarp"/> per warp, and keeps their dK and dV in fp32 registers while
/// it walks the query tiles of every query head that reads that K/V head, TileQ rows at a time, Q and dO
/// double-buffered in shared memory. Per query tile a warp recomputes Sᵀ = K·Qᵀ for its keys, forms Pᵀ, dPᵀ = V·dOᵀ
/// and dSᵀ, adds Pᵀ·dO to dV and dSᵀ·Q to dK, and leaves dSᵀ in shared memory, from which the block adds dS·K to the
/// fp32 dQ in global memory (one atomic add per element and block).
/// </summary>
internal sealed record CudaAttentionBackwardPlan(int TileQ, int Warps, int HeadDim)
{
    /// <summary>Keys per warp: one 16-row MMA tile of dK and dV (the A operand's rows).</summary>
    public const int KeysPerWarp = 16;

    /// <summary>Q/dO tiles in flight: the next tile's copies overlap the current tile's math.</summary>
    public const int QStages = 2;

    /// <summary>Warps of a delta-kernel block (D = rowsum(dO ∘ O)), one query row per warp and pass.</summary>
    public const int DeltaWarps = 8;

    /// <summary>
    /// Warps per block: 64 keys. (FlashAttention-2's sm_80 kernels take 128 keys over 8 warps in a 2 × 4 grid, which
    /// shares Q and dO fragments between warps; here each warp owns whole rows of dK and dV, one MMA row tile.)
    /// </summary>
    public const int DefaultWarps = 4;

    /// <summary>
    /// The limit on <see cref="LiveValuesPerThread"/>: the backward step has no online softmax (no running max, sum or
    /// rescale), so it keeps fewer values beside its accumulators than the forward step; NvrtcAttentionTests holds every
    /// planned backward kernel to 0 spills.
    /// </summary>
    public const int LiveValueTarget = 176;

    /// <summary>Query tiles tried, largest first.</summary>
    private static readonly int[] QCandidates = [64, 32, 16];

    public int TileKv => KeysPerWarp * Warps;

    public int Threads => 32 * Warps;

    /// <summary>16-byte chunks per row of a K, V, Q or dO tile (8 16-bit elements each).</summary>
    public int Chunks => HeadDim / 8;

    /// <summary>The same XOR swizzle as the forward's tiles (rows of d elements).</summary>
    public ChunkSwizzle Swizzle { get; } = ChunkSwizzle.For(HeadDim / 8);

    /// <summary>
    /// 16-bit elements per row of the dSᵀ buffer [TileKv][TileQ]: one 16-byte chunk of padding, so the 8 rows an
    /// ldmatrix reads, and the 8 rows of a warp's 4-byte stores, start 4 banks apart (conflict-free).
    /// </summary>
    public int DsStride => TileQ + 8;

    /// <summary>K and V once, <see cref="QStages"/> × (Q, dO), their rows' L and D in fp32, then dSᵀ.</summary>
    public long SharedBytes => (2L * TileKv * HeadDim + QStages * 2L * TileQ * HeadDim) * 2 + QStages * 2L * TileQ * 4 + (long)TileKv * DsStride * 2;

    /// <summary>
    /// 32-bit values a thread keeps live: dK and dV (2·16·d/32), Sᵀ/Pᵀ and dPᵀ/dSᵀ of one query tile (2·16·TileQ/32),
    /// and a d-step's operands (the A fragment and TileQ/16 B fragments of 4 registers).
    /// </summary>
    public int LiveValuesPerThread => HeadDim + TileQ + 4 + TileQ / 4;

    /// <summary>
    /// The largest query tile whose live values stay within <see cref="LiveValueTarget"/> and whose
    /// shared memory fits <paramref name="sharedLimit"/>; null when none does (d = 256: dK and dV alone take 256 values).
    /// </summary>
    public static CudaAttentionBackwardPlan? For(int headDim, long sharedLimit)
    {
        foreach (int q in QCandidates)
        {
            var plan = new CudaAttentionBackwardPlan(q, DefaultWarps, headDim);
            if (plan.LiveValuesPerThread <= LiveValueTarget && plan.SharedBytes <= sharedLimit)
            {
                return plan;
            }
        }
        return null;
    }
}
