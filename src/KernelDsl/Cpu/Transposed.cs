namespace KernelDsl.Cpu;

/// <summary>
/// An operand stored transposed, op(X) = Xᵀ, row-major: A is K×M, so each depth's rows of op(A) are contiguous and
/// packing copies runs; B is N×K, so a column of op(B) is contiguous along the depth and packing transposes it.
/// </summary>
public readonly struct Transposed : IOperandLayout
{
    static void IOperandLayout.PackA<T>(ref readonly T a, int lda, int row0, int rows, int p0, int depth, ref float packed, int mr)
        => GemmPacking.Runs(in a, lda, row0, rows, p0, depth, ref packed, mr);

    static void IOperandLayout.PackB<T>(ref readonly T b, int ldb, int col0, int cols, int p0, int depth, ref float packed, int nr)
        => GemmPacking.Transposing(in b, ldb, col0, cols, p0, depth, ref packed, nr);
}
