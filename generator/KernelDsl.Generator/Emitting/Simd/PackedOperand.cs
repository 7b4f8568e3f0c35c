namespace KernelDsl.Generator.Emitting.Simd;

/// <summary>
/// One operand as its packing routine sees it: a sliver is <see cref="Width"/> lines of op(X)
/// (rows of op(A), columns of op(B)), <c>depth</c> deep; element (line, p) of the sliver lands at
/// <c>packed[p·Width + line]</c>. Both operands pack through the same printing routine with these names.
/// </summary>
/// <param name="Method">PackA or PackB.</param>
/// <param name="Source">The stored operand's parameter name.</param>
/// <param name="Ld">Its leading dimension's parameter name.</param>
/// <param name="Start">First line of the sliver (row0 or col0).</param>
/// <param name="Count">Valid lines (rows or cols).</param>
/// <param name="Index">Loop variable over lines.</param>
/// <param name="Width">The blocking constant naming the sliver width (Mr or Nr).</param>
/// <param name="ContiguousAlongSliver">Stored rows run along the sliver's lines, so each depth's values are contiguous.</param>
/// <param name="Layout">The address formula, for the comment.</param>
internal sealed record PackedOperand(
    string Method, string Source, string Ld, string Start, string Count, string Index, string Width,
    bool ContiguousAlongSliver, string Layout)
{
    public static PackedOperand A(bool transposeA) => new(
        "PackA", "a", "lda", "row0", "rows", "i", "Mr",
        ContiguousAlongSliver: transposeA,
        transposeA ? "op(A)(i, p) = a[p·lda + i] (A stored K×M)" : "op(A)(i, p) = a[i·lda + p] (A stored M×K)");

    public static PackedOperand B(bool transposeB) => new(
        "PackB", "b", "ldb", "col0", "cols", "j", "Nr",
        ContiguousAlongSliver: !transposeB,
        transposeB ? "op(B)(p, j) = b[j·ldb + p] (B stored N×K)" : "op(B)(p, j) = b[p·ldb + j] (B stored K×N)");
}
