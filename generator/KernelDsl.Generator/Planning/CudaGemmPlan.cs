namespace KernelDsl.Generator.Planning;

/// <summary>
/// What every CUDA GEMM kernel shares: a block computes a TileM×TileN tile of C with a WarpsM×WarpsN
/// grid of warps, walking K TileK at a time through <see cref="Stages"/> shared-memory buffers filled
/// by cp.async. <see cref="SimtGemmPlan"/> (fp32 on CUDA cores) and <see cref="MmaGemmPlan"/>
/// (16-bit operands on tensor cores) say how a warp computes its tile.
/// </summary>
/// <param name="ElementBytes">Bytes of one A or B element (4 for fp32, 2 for fp16/bf16).</param>
internal abstract record CudaGemmPlan(int TileM, int TileN, int TileK, int WarpsM, int WarpsN, int Stages, int ElementBytes)
{
    public int Threads => WarpsM * WarpsN * 32;

    /// <summary>
    /// The launch-bounds occupancy hint. Without one, ptxas picks its own register target and can spill
    /// to reach it (seen: 80 registers and 4 spilled bytes for a 64×64 bf16 tile that needs 96). One block
    /// per SM lets a thread use up to 255 registers; occupancy then follows from the tile and shared memory.
    /// </summary>
    public int MinBlocksPerMultiprocessor => 1;

    /// <summary>
    /// The K loop runs <see cref="Stages"/> slices per trip, so each slice's stage is a compile-time constant: its shared
    /// offsets become immediates and nothing wraps a stage index. Worth it when the loop body is small (tensor cores: a
    /// few hundred instructions, still inside the instruction cache when repeated); the SIMT body is too large to repeat.
    /// </summary>
    public abstract bool StagesUnrolled { get; }

    /// <summary>
    /// Tile rows per group of the grouped tile order (Triton's GROUP_M): blocks launched one after another walk down
    /// this many tile rows before moving one tile column right, so the blocks resident together read a few A panels
    /// and B panels many times from L2 instead of one A panel and every B panel once. 8 is Triton's default; 1 is
    /// plain row order, where the tile's origin is blockIdx itself.
    /// </summary>
    public abstract int RasterGroup { get; }

    public int WarpTileM => TileM / WarpsM;

    public int WarpTileN => TileN / WarpsN;

    /// <summary>Rows of C a thread holds accumulators for.</summary>
    public abstract int ThreadTileM { get; }

    /// <summary>Columns of C a thread holds accumulators for.</summary>
    public abstract int ThreadTileN { get; }

    public abstract int SharedBytesPerStage { get; }

    public int SharedBytes => Stages * SharedBytesPerStage;

    /// <summary>
    /// FLOPs per byte of global memory a block moves: each K slice costs (TileM + TileN)·TileK elements
    /// and buys 2·TileM·TileN·TileK FLOPs, so 2·TileM·TileN / ((TileM + TileN)·ElementBytes).
    /// </summary>
    public double ArithmeticIntensity => 2.0 * TileM * TileN / ((TileM + TileN) * (double)ElementBytes);
}
