using KernelDsl.Generator.Planning;

namespace KernelDsl.Generator.Emitting.Cuda;

/// <summary>
/// Every index formula of the tensor-core GEMM's shared-memory layout and ldmatrix addresses, in one place: the
/// emitter prints these strings verbatim into the CUDA source, and <c>GemmFragmentTests</c> evaluates the same strings
/// in a simulation of ldmatrix(.trans) and mma.sync (PTX ISA semantics) against a direct matrix product, for every
/// transpose and tile shape it is given. Variables: <c>row</c> and <c>chunk</c> for the offset; for an address,
/// <c>mn</c> and <c>k</c> (the 16×16 block's origin in the warp tile's M or N and in K), <c>q = lane / 8</c> (which of
/// the four 8×8 matrices the lane names a row of) and <c>r = lane % 8</c> (which row).
/// </summary>
internal static class GemmFragments
{
    /// <summary>
    /// Element offset of 16-byte chunk <c>chunk</c> of row <c>row</c> in one stage of operand <paramref name="p"/>
    /// ("A" or "B"): rows of <c>p_CHUNKS</c> chunks of 8 elements, the chunk index XOR-ed as <see cref="ChunkSwizzle"/> says.
    /// </summary>
    public static string Offset(string p) => $"(row * {p}_CHUNKS + (chunk ^ ((row / {p}_ROW_GROUP) % {p}_SWIZZLE))) * 8";

    /// <summary>
    /// Stored row of the lane's ldmatrix.x4 address for the 16×16 block at (mn, k). A wants matrices
    /// (mn 0–7, k 0–7), (mn 8–15, k 0–7), (mn 0–7, k 8–15), (mn 8–15, k 8–15) as a0..a3, so q % 2 picks the mn half;
    /// B wants b0, b1 of one n-tile then of the next, (n 0–7, k 0–7), (n 0–7, k 8–15), (n 8–15, …), so q / 2 does.
    /// Stored rows are mn when the operand is K-contiguous, else k (and ldmatrix.trans transposes).
    /// </summary>
    public static string Row(MmaOperand operand)
        => operand.ContiguousAlongK ? $"mn + ({MnHalf(operand)}) * 8 + r" : $"k + ({KHalf(operand)}) * 8 + r";

    /// <summary>Stored chunk of that address: along k when the operand is K-contiguous, else along mn.</summary>
    public static string Chunk(MmaOperand operand)
        => operand.ContiguousAlongK ? $"(k + ({KHalf(operand)}) * 8) / 8" : $"(mn + ({MnHalf(operand)}) * 8) / 8";

    private static string MnHalf(MmaOperand operand) => operand.Name == "A" ? "q % 2" : "q / 2";

    private static string KHalf(MmaOperand operand) => operand.Name == "A" ? "q / 2" : "q % 2";
}
