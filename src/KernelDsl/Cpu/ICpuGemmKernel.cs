namespace KernelDsl.Cpu;

/// <summary>
/// The specialised pieces of one CPU GEMM for one instruction set, as <see cref="CpuGemmJob{TKernel, TInput, TOutput}"/>
/// drives them: the BLIS blocking, the two packing routines and the register microkernel with the fused epilogue.
/// Implemented by <see cref="GemmKernel{TMicro, TLayoutA, TLayoutB, TEpilogue, TInput}"/>, which composes them.
/// </summary>
/// <typeparam name="TInput">
/// The stored element type of A and B: <see cref="float"/>, <see cref="System.Half"/> or <see cref="BFloat16"/>.
/// Packing converts it to float; the packed slivers, the microkernel and the tile of C it works on are always fp32.
/// </typeparam>
/// <remarks>
/// Packed layouts. A sliver of op(A) holds <see cref="Mr"/> rows × depth: element (i, p) at
/// <c>packed[p·Mr + i]</c>. A sliver of op(B) holds depth × <see cref="Nr"/> columns: element
/// (p, j) at <c>packed[p·Nr + j]</c>. Rows or columns past the matrix edge are zero, so the
/// microkernel always computes a full Mr×Nr tile. All references point into memory the driver
/// keeps pinned.
/// </remarks>
internal interface ICpuGemmKernel<TInput> where TInput : unmanaged
{
    /// <summary>Rows of the register tile (rows of a packed A sliver).</summary>
    static abstract int Mr { get; }

    /// <summary>Columns of the register tile (columns of a packed B sliver); a multiple of the vector width.</summary>
    static abstract int Nr { get; }

    /// <summary>K depth of one packed block.</summary>
    static abstract int Kc { get; }

    /// <summary>Rows of C one task walks with a B sliver held in L1 (a multiple of <see cref="Mr"/>).</summary>
    static abstract int Mc { get; }

    /// <summary>Columns of one packed B panel (a multiple of <see cref="Nr"/>).</summary>
    static abstract int Nc { get; }

    /// <summary>
    /// Packs rows <paramref name="row0"/> … <paramref name="row0"/> + <paramref name="rows"/> − 1 and
    /// depths <paramref name="p0"/> … <paramref name="p0"/> + <paramref name="depth"/> − 1 of op(A)
    /// into one Mr-row sliver of floats, zero-filling rows <paramref name="rows"/> … Mr − 1.
    /// </summary>
    /// <param name="a">Element 0 of A as stored (K×M when the kernel transposes A, else M×K).</param>
    /// <param name="lda">Leading dimension of A as stored.</param>
    /// <param name="row0">First row of op(A).</param>
    /// <param name="rows">Rows to pack, 1 … Mr.</param>
    /// <param name="p0">First depth (column of op(A)).</param>
    /// <param name="depth">Depths to pack, 0 … Kc.</param>
    /// <param name="packed">Start of the sliver: Mr·depth elements.</param>
    static abstract void PackA(ref readonly TInput a, int lda, int row0, int rows, int p0, int depth, ref float packed);

    /// <summary>
    /// Packs columns <paramref name="col0"/> … <paramref name="col0"/> + <paramref name="cols"/> − 1 and
    /// depths <paramref name="p0"/> … <paramref name="p0"/> + <paramref name="depth"/> − 1 of op(B)
    /// into one Nr-column sliver of floats, zero-filling columns <paramref name="cols"/> … Nr − 1.
    /// </summary>
    /// <param name="b">Element 0 of B as stored (N×K when the kernel transposes B, else K×N).</param>
    /// <param name="ldb">Leading dimension of B as stored.</param>
    /// <param name="col0">First column of op(B).</param>
    /// <param name="cols">Columns to pack, 1 … Nr.</param>
    /// <param name="p0">First depth (row of op(B)).</param>
    /// <param name="depth">Depths to pack, 0 … Kc.</param>
    /// <param name="packed">Start of the sliver: depth·Nr elements.</param>
    static abstract void PackB(ref readonly TInput b, int ldb, int col0, int cols, int p0, int depth, ref float packed);

    /// <summary>
    /// Multiplies a packed A sliver by a packed B sliver into a full Mr×Nr tile of C:
    /// <c>c ← α·(packedA·packedB) + β·c</c> (β = 0: <paramref name="c"/> is not read), then, when
    /// <paramref name="lastBlock"/>, <c>c ← act(c + bias)</c> with the kernel's bias and activation.
    /// </summary>
    /// <param name="depth">K depth of the slivers (0 gives a zero product).</param>
    /// <param name="packedA">The A sliver, Mr·depth elements.</param>
    /// <param name="packedB">The B sliver, depth·Nr elements.</param>
    /// <param name="c">Element (0, 0) of the tile: C itself for fp32 output, else the driver's fp32 workspace.</param>
    /// <param name="ldc">Distance between the tile's rows.</param>
    /// <param name="bias">The bias of the tile's first column as floats (Nr values are read); ignored by kernels without bias.</param>
    /// <param name="alpha">Scale of the product.</param>
    /// <param name="beta">Scale of the old tile; the driver passes the user's β for the first K block and 1 after.</param>
    /// <param name="lastBlock">This is the last K block: apply bias and activation.</param>
    static abstract void MicroKernel(int depth, ref readonly float packedA, ref readonly float packedB, ref float c, int ldc, ref readonly float bias, float alpha, float beta, bool lastBlock);
}
