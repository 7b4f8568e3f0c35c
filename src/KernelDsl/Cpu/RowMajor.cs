namespace KernelDsl.Cpu;

/// <summary>
/// An operand stored as op(X), row-major: A is M×K, so a row of op(A) is contiguous along the depth and packing
/// transposes it; B is K×N, so each depth's columns are contiguous and packing copies runs.
/// </summary>
public readonly struct RowMajor : IOperandLayout
{
    static void IOperandLayout.PackA<T>(ref readonly T a, int lda, int row0, int rows, int p0, int depth, ref float packed, int mr)
        => GemmPacking.Transposing(in a, lda, row0, rows, p0, depth, ref packed, mr);

    static void IOperandLayout.PackB<T>(ref readonly T b, int ldb, int col0, int cols, int p0, int depth, ref float packed, int nr)
        => GemmPacking.Runs(in b, ldb, col0, cols, p0, depth, ref packed, nr);
}
