namespace KernelDsl.Generator.Planning;

/// <summary>
/// The sm_90a kernel of a "TN" 16-bit GEMM (A stored M×K, B stored N×K: both K-major, as wgmma reads them from shared
/// memory), printed beside the sm_80 kernel and launched instead of it on compute capability 9.0. A block is one
/// producer warpgroup, whose first thread fills <see cref="Stages"/> shared stages with TMA tensor copies, and
/// <see cref="ConsumerWarpgroups"/> consumer warpgroups that multiply them with <c>wgmma.mma_async</c>; full and empty
/// mbarriers pass each stage between them. The grid is persistent: one block per SM (at most one per tile) walks the
/// tiles of C in grouped order, and the stage ring runs on across tiles, so the producer loads the next tile while the
/// consumers store the last one.
/// </summary>
/// <param name="EntryPoint">The sm_90a kernel's <c>extern "C"</c> name.</param>
/// <param name="TileM">Rows of C per tile: ConsumerWarpgroups · MmaBlocks · 64.</param>
/// <param name="TileN">Columns of C per tile: the N of every wgmma (8 to 256, a multiple of 8).</param>
/// <param name="TileK">K depth of one stage: <see cref="Boxes"/> TMA boxes per operand.</param>
/// <param name="Stages">Shared stages in the ring.</param>
/// <param name="ConsumerWarpgroups">1 or 2: a consumer owns TileM / ConsumerWarpgroups rows of the tile.</param>
/// <param name="MmaBlocks">64-row wgmma blocks per consumer, each with its own TileN / 2 accumulators per thread.</param>
/// <param name="BoxK">Elements of K per TMA box row: 64, 32 or 16, the largest dividing TileK, so a row is one swizzle span.</param>
internal sealed record HopperGemmPlan(
    string EntryPoint,
    int TileM,
    int TileN,
    int TileK,
    int Stages,
    int ConsumerWarpgroups,
    int MmaBlocks,
    int BoxK)
{
    /// <summary>Rows of one wgmma (m64nNk16) and its K depth.</summary>
    public const int WgmmaM = 64, WgmmaK = 16;

    /// <summary>
    /// Registers per thread after <c>setmaxnreg</c>: the producer gives most of its own back (one thread issues copies),
    /// the consumers take them. 40·128 + 232·256 ≤ 65536, the register file of an SM, so the exchange fits for one or two
    /// consumer warpgroups (CUTLASS's warp-specialised kernels use the same pair).
    /// </summary>
    public const int ProducerRegisters = 40, ConsumerRegisters = 232;

    /// <summary>Tile rows per group of the grouped tile order, as on sm_80 (<see cref="CudaGemmPlan.RasterGroup"/>).</summary>
    public const int RasterGroup = 8;

    /// <summary>Bytes one shared stage may need to be moved by to start on the 128-byte swizzle's 1024-byte pattern.</summary>
    public const int AlignmentSlack = 1024;

    public int Threads => (ConsumerWarpgroups + 1) * 128;

    /// <summary>The swizzle span in bytes: one box row, BoxK 16-bit elements.</summary>
    public int SwizzleBytes => BoxK * 2;

    /// <summary>The descriptor's swizzle mode for <see cref="SwizzleBytes"/> (PTX ISA: 1 = 128 B, 2 = 64 B, 3 = 32 B).</summary>
    public int DescriptorSwizzleMode => SwizzleBytes switch { 128 => 1, 64 => 2, _ => 3 };

    public int Boxes => TileK / BoxK;

    /// <summary>fp32 accumulators a consumer thread holds: MmaBlocks · TileN / 2.</summary>
    public int Accumulators => MmaBlocks * TileN / 2;

    public int StageBytes => (TileM + TileN) * TileK * 2;

    /// <summary>The stages, a full and an empty mbarrier (8 bytes each) per stage, and the alignment slack.</summary>
    public int SharedBytes => Stages * StageBytes + Stages * 16 + AlignmentSlack;
}
