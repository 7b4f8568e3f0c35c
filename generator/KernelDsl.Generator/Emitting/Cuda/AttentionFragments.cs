namespace KernelDsl.Generator.Emitting.Cuda;

/// <summary>
/// Every index formula of the attention kernels' register fragments and shared-memory layout, in one place:
/// the emitters print these strings verbatim into the CUDA source, and <c>AttentionFragmentTests</c> evaluates
/// the same strings in a simulation of ldmatrix and mma.sync (PTX ISA semantics) against a direct matrix product.
/// Variables: <c>lane</c> (0–31); for ldmatrix addresses <c>q = lane / 8</c> (which 8×8 matrix the lane names a
/// row of) and <c>r = lane % 8</c> (which row); for accumulators <c>e</c> (0–3, the element of a 16×8 tile).
/// </summary>
internal static class AttentionFragments
{
    /// <summary>
    /// Element offset of 16-byte chunk <c>chunk</c> of row <c>row</c> in a Q, K or V tile: rows of CHUNKS chunks,
    /// chunk index XOR-ed as <see cref="Planning.ChunkSwizzle"/> says, so that 8 rows read at one chunk index land in
    /// 8 different bank groups (ldmatrix and float4 reads are then conflict-free).
    /// </summary>
    public const string TileOffset = "(row * CHUNKS + (chunk ^ ((row / ROW_GROUP) % SWIZZLE))) * CHUNK_ELEMS";

    /// <summary>Stored row of the lane's ldmatrix.x4 address for Q as the A operand, 16×16 block at (row0, k0).</summary>
    /// <remarks>Matrices (rows, k) = (0–7, 0–7), (8–15, 0–7), (0–7, 8–15), (8–15, 8–15) give a0..a3 (PTX m16n8k16 A).</remarks>
    public const string QRow = "row0 + (q % 2) * 8 + r";

    /// <summary>Stored chunk of that address: d is contiguous in a Q row, so chunks run along k.</summary>
    public const string QChunk = "(k0 + (q / 2) * 8) / 8";

    /// <summary>Stored row (a key) of the lane's ldmatrix.x4 address for Kᵀ as the B operand, keys key0..key0+15, d k0..k0+15.</summary>
    /// <remarks>Non-transposed: K rows are keys with d contiguous, i.e. B (k × n) stored n-major ("col").
    /// Matrices (keys, k) = (0–7, 0–7), (0–7, 8–15), (8–15, 0–7), (8–15, 8–15) give b0, b1 of n-tile key0 / 8, then of the next.</remarks>
    public const string KRow = "key0 + (q / 2) * 8 + r";

    /// <summary>Stored chunk of that address.</summary>
    public const string KChunk = "(k0 + (q % 2) * 8) / 8";

    /// <summary>Stored row (a key) of the lane's ldmatrix.x4.trans address for V as the B operand, keys key0..key0+15, d dim0..dim0+15.</summary>
    /// <remarks>V rows are keys (the MMA's k) with d (its n) contiguous, so ldmatrix transposes.
    /// Matrices (keys, d) = (0–7, 0–7), (8–15, 0–7), (0–7, 8–15), (8–15, 8–15) give b0, b1 of n-tile dim0 / 8, then of the next.</remarks>
    public const string VRow = "key0 + (q % 2) * 8 + r";

    /// <summary>Stored chunk of that address.</summary>
    public const string VChunk = "(dim0 + (q / 2) * 8) / 8";

    /// <summary>
    /// Stored row (a key) of the lane's ldmatrix.x4.trans address for dS as the A operand (queries × keys) of the backward
    /// step's dQ product, 16×16 block at (queries m0.., keys k0..), from the dSᵀ buffer (rows are keys, queries contiguous).
    /// </summary>
    /// <remarks>Transposed: an 8×8 matrix stored (keys, queries) gives each lane A's (query g, keys 2t, 2t + 1). Matrices
    /// (queries, keys) = (0–7, 0–7), (8–15, 0–7), (0–7, 8–15), (8–15, 8–15) give a0..a3, as for Q in the forward step.</remarks>
    public const string DsRow = "k0 + (q / 2) * 8 + r";

    /// <summary>Stored column (the first query) of that address, in elements.</summary>
    public const string DsCol = "m0 + (q % 2) * 8";

    /// <summary>Row, within its 16×8 MMA tile, of accumulator element e a lane holds (PTX m16n8k16 C/D fragment).</summary>
    public const string AccumulatorRow = "lane / 4 + (e / 2) * 8";

    /// <summary>Column, within its 16×8 MMA tile, of accumulator element e.</summary>
    public const string AccumulatorCol = "(lane % 4) * 2 + e % 2";

    /// <summary>
    /// The FlashAttention-2 repacking: register <paramref name="register"/> (0–3) of the A fragment of P's 16×16
    /// k-tile kk is the pair of S accumulators (element, element + 1) of S n-tile 2·kk + tile, low half first.
    /// A's registers are (row g, k 2t), (row g + 8, k 2t), (row g, k 8 + 2t), (row g + 8, k 8 + 2t); a C fragment
    /// holds (row g, col 2t) in elements 0, 1 and (row g + 8, col 2t) in 2, 3: so two adjacent n-tiles are one k-tile.
    /// </summary>
    public static (int Tile, int Element) PackSource(int register) => (register / 2, (register % 2) * 2);

    /// <summary>An ldmatrix.x4 of a B operand gives two n-tiles: registers 0, 1 are b0, b1 of the first, 2, 3 of the second.</summary>
    public static (int Tile, int Register) PairTarget(int register) => (register / 2, register % 2);
}
