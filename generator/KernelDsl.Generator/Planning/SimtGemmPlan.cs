namespace KernelDsl.Generator.Planning;

/// <summary>
/// fp32 on CUDA cores. Inside a warp the 32 lanes form a LanesM×LanesN grid, each owning a
/// contiguous ThreadTileM×ThreadTileN block of accumulators in registers; every k is an outer
/// product of the lane's TM values of A and TN values of B, read from K-major shared memory.
/// </summary>
internal sealed record SimtGemmPlan(
    int TileM,
    int TileN,
    int TileK,
    int WarpsM,
    int WarpsN,
    int Stages,
    int LanesM,
    int LanesN,
    int LaneTileM,
    int LaneTileN,
    OperandCopy A,
    OperandCopy B)
    : CudaGemmPlan(TileM, TileN, TileK, WarpsM, WarpsN, Stages, sizeof(float))
{
    public override int ThreadTileM => LaneTileM;

    public override int ThreadTileN => LaneTileN;

    /// <summary>Floats between consecutive k rows of the shared A slice.</summary>
    public int SharedStrideA => TileM + A.RowPad;

    /// <summary>Floats between consecutive k rows of the shared B slice.</summary>
    public int SharedStrideB => TileN + B.RowPad;

    public override bool StagesUnrolled => false;

    /// <summary>
    /// Grouped order computes the tile's origin once and holds it for the whole kernel, where row order re-reads
    /// blockIdx. A SIMT block of 512 threads has a 128-register budget that its accumulators, operands and copy
    /// addresses already fill (ptxas 12.4 spills for a 256×128 tile of 4×4 warps with the origin held), so those
    /// blocks keep row order.
    /// </summary>
    public override int RasterGroup => ArchitectureLimits.RegisterBudget(Threads) <= 128 ? 1 : 8;

    public override int SharedBytesPerStage => (int)SharedBytesPerStageOf(TileM, TileN, TileK, A, B);

    /// <summary>A thread reads its ThreadTileM values of A at one k as float4s when they come in fours.</summary>
    public int ReadWidthA => LaneTileM % 4 == 0 ? 4 : 1;

    /// <summary>Likewise for its ThreadTileN values of B.</summary>
    public int ReadWidthB => LaneTileN % 4 == 0 ? 4 : 1;

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
