namespace KernelDsl.Generator.Planning;

/// <summary>
/// The CUDA thread-block tiling. A block computes a TileM×TileN tile of C; its warps form a
/// WarpsM×WarpsN grid, each owning a WarpTileM×WarpTileN sub-tile; inside a warp the 32 lanes
/// form a LanesM×LanesN grid, each owning ThreadTileM×ThreadTileN accumulators in registers.
/// The K loop walks TileK-deep slices through <see cref="Stages"/> shared-memory buffers.
/// </summary>
internal sealed record CudaGemmPlan(
    int TileM,
    int TileN,
    int TileK,
    int WarpsM,
    int WarpsN,
    int WarpTileM,
    int WarpTileN,
    int LanesM,
    int LanesN,
    int ThreadTileM,
    int ThreadTileN,
    int Stages,
    OperandCopy A,
    OperandCopy B)
{
    public int Threads => WarpsM * WarpsN * 32;

    /// <summary>Floats between consecutive k rows of the shared A slice.</summary>
    public int SharedStrideA => TileM + A.RowPad;

    /// <summary>Floats between consecutive k rows of the shared B slice.</summary>
    public int SharedStrideB => TileN + B.RowPad;

    public int SharedBytesPerStage => (int)SharedBytesPerStageOf(TileM, TileN, TileK, A, B);

    public int SharedBytes => Stages * SharedBytesPerStage;

    /// <summary>A thread reads its ThreadTileM values of A at one k as float4s when they come in fours.</summary>
    public int ReadWidthA => ThreadTileM % 4 == 0 ? 4 : 1;

    /// <summary>Likewise for its ThreadTileN values of B.</summary>
    public int ReadWidthB => ThreadTileN % 4 == 0 ? 4 : 1;

    /// <summary>
    /// FLOPs per byte of global memory a block moves: each K slice costs (TileM + TileN)·TileK·4 bytes
    /// and buys 2·TileM·TileN·TileK FLOPs, so TileM·TileN / (2·(TileM + TileN)).
    /// </summary>
    public double ArithmeticIntensity => (double)TileM * TileN / (2.0 * (TileM + TileN));

    /// <summary>One stage holds the K-major A slice (TileK rows of TileM + pad) and B slice, fp32. Validation uses it before a plan exists.</summary>
    public static long SharedBytesPerStageOf(int tileM, int tileN, int tileK, OperandCopy a, OperandCopy b)
        => ((long)tileM + a.RowPad + tileN + b.RowPad) * tileK * sizeof(float);
}

/// <summary>
/// How one operand's global tile reaches shared memory. Shared memory always holds the tile
/// K-major (one row per k), so a thread reads its ThreadTileM (or N) values at one k as float4s.
/// When the operand is stored with M (or N) contiguous, global rows map to shared rows and
/// 16-byte copies move four elements at once; when K is contiguous the copy transposes, one
/// element (4 bytes) per copy.
/// </summary>
/// <param name="Name">"A" or "B".</param>
/// <param name="ContiguousAlongK">The operand's stored rows run along K (A not transposed, B transposed).</param>
/// <param name="VectorWidth">Elements per asynchronous copy: 4 (16 bytes) or 1 (4 bytes).</param>
/// <param name="RowPad">
/// Floats added to each shared k row. A transposing copy has consecutive lanes walk K, i.e. write
/// shared rows TileM (or TileN) floats apart, which for a power-of-two tile is the same bank 32
/// times over; 4 floats of padding spread those writes over 8 banks and keep rows 16-byte aligned.
/// </param>
internal sealed record OperandCopy(string Name, bool ContiguousAlongK, int VectorWidth, int RowPad);
