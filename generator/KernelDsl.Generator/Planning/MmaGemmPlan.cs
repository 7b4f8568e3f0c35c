namespace KernelDsl.Generator.Planning;

/// <summary>
/// fp16/bf16 operands on tensor cores (<c>mma.sync.m16n8k16</c>, fp32 accumulators). A warp's
/// WarpTileM×WarpTileN tile is MmaTilesM×MmaTilesN MMA tiles of 16×8; per 16-deep k step it loads
/// A fragments (16×16) and B fragments (16×8, two at a time) from shared memory with ldmatrix and
/// issues MmaTilesM·MmaTilesN MMAs. A thread holds 4 accumulators per MMA tile: rows g and g+8,
/// columns 2t and 2t+1 of it (g = lane / 4, t = lane % 4).
/// </summary>
internal sealed record MmaGemmPlan(
    int TileM,
    int TileN,
    int TileK,
    int WarpsM,
    int WarpsN,
    int Stages,
    MmaOperand A,
    MmaOperand B)
    : CudaGemmPlan(TileM, TileN, TileK, WarpsM, WarpsN, Stages, 2)
{
    public const int MmaM = 16, MmaN = 8, MmaK = 16;

    public int MmaTilesM => WarpTileM / MmaM;

    public int MmaTilesN => WarpTileN / MmaN;

    public override int ThreadTileM => 2 * MmaTilesM;

    public override int ThreadTileN => 2 * MmaTilesN;

    public override bool StagesUnrolled => true;

    public override int RasterGroup => 8;

    public override int SharedBytesPerStage => (A.Rows * A.Chunks + B.Rows * B.Chunks) * 16;
}

/// <summary>
/// One operand's shared-memory tile on the tensor-core path. It keeps the operand's global layout:
/// rows of the contiguous dimension cut into 16-byte chunks of 8 elements, so global → shared is one
/// 16-byte cp.async per chunk. ldmatrix then reads 8×8 matrices; <c>.trans</c> is needed when the
/// contiguous dimension is M (or N) rather than K.
/// </summary>
/// <param name="Name">"A" or "B".</param>
/// <param name="ContiguousAlongK">Rows run along K: rows are M (or N) indices and ldmatrix needs no transpose.</param>
/// <param name="Rows">Rows of the tile (TileM or TileN when K-contiguous, else TileK).</param>
/// <param name="Chunks">16-byte chunks per row.</param>
/// <param name="SwizzleSpan">XOR swizzle: chunk c of row r is stored at chunk c ^ ((r / SwizzleRowGroup) % SwizzleSpan) (<see cref="ChunkSwizzle"/>).</param>
/// <param name="SwizzleRowGroup">Rows after which the rows' starting bank group repeats (<see cref="ChunkSwizzle"/>).</param>
/// <param name="CopyRows">
/// Rows one pass of the block's threads copies when every thread copies the same chunk of a row in every pass
/// (threads = CopyRows · Chunks, CopyRows a multiple of the swizzle's 8-row period, Rows a multiple of CopyRows): a
/// thread's shared offset and source pointer are then fixed for the whole kernel, pass i only adding CopyRows rows.
/// 0 when the tile does not divide so; the copy then walks the chunks with a general loop.
/// </param>
/// <param name="CopyPasses">Rows / CopyRows, the copies each thread issues per K slice (0 with the general loop).</param>
internal sealed record MmaOperand(string Name, bool ContiguousAlongK, int Rows, int Chunks, int SwizzleSpan, int SwizzleRowGroup, int CopyRows, int CopyPasses);
