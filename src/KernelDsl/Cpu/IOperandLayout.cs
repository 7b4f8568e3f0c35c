namespace KernelDsl.Cpu;

/// <summary>
/// How a GEMM operand is stored relative to op(X), as packing sees it: <see cref="RowMajor"/> (op(X) = X) or
/// <see cref="Transposed"/> (op(X) = Xᵀ). Each packs a sliver of op(A) or of op(B) through the one of
/// <see cref="GemmPacking"/>'s two copies that matches its memory order. Used as type arguments of
/// <see cref="CpuGemm"/> by generated code.
/// </summary>
public interface IOperandLayout
{
    /// <summary>Packs an Mr-row sliver of op(A); see <see cref="ICpuGemmKernel{TInput}.PackA"/>.</summary>
    internal static abstract void PackA<T>(ref readonly T a, int lda, int row0, int rows, int p0, int depth, ref float packed, int mr)
        where T : unmanaged;

    /// <summary>Packs an Nr-column sliver of op(B); see <see cref="ICpuGemmKernel{TInput}.PackB"/>.</summary>
    internal static abstract void PackB<T>(ref readonly T b, int ldb, int col0, int cols, int p0, int depth, ref float packed, int nr)
        where T : unmanaged;
}
