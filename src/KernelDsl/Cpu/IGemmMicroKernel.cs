namespace KernelDsl.Cpu;

/// <summary>
/// A register microkernel of the CPU GEMM for one vector width: an <see cref="Mr"/>×<see cref="Nr"/> tile of C held
/// in registers while the packed slivers stream past (layouts in <see cref="ICpuGemmKernel{TInput}"/>), then the
/// fused epilogue on the tile in place. The driver hands edge tiles in as a zero-padded copy, so a microkernel only
/// ever sees full tiles.
/// </summary>
internal interface IGemmMicroKernel
{
    /// <summary>The vector width the kernel is written for.</summary>
    static abstract CpuIsa Isa { get; }

    /// <summary>Rows of the register tile.</summary>
    static abstract int Mr { get; }

    /// <summary>Columns of the register tile, a multiple of the vector width.</summary>
    static abstract int Nr { get; }

    /// <summary>
    /// <c>c ← α·(packedA·packedB) + β·c</c> (β = 0: c is not read), then, when <paramref name="lastBlock"/>,
    /// <c>c ← Finish(c, bias)</c> with <typeparamref name="TEpilogue"/>.
    /// </summary>
    /// <param name="depth">K depth of the slivers (0 gives a zero product).</param>
    /// <param name="packedA">The A sliver, Mr·depth floats.</param>
    /// <param name="packedB">The B sliver, depth·Nr floats.</param>
    /// <param name="c">Element (0, 0) of the tile.</param>
    /// <param name="ldc">Distance between the tile's rows.</param>
    /// <param name="bias">The bias of the tile's first column (Nr values are read when the epilogue reads bias).</param>
    /// <param name="alpha">Scale of the product.</param>
    /// <param name="beta">Scale of the old tile.</param>
    /// <param name="lastBlock">This is the last K block: apply the epilogue.</param>
    static abstract void Compute<TEpilogue>(int depth, ref readonly float packedA, ref readonly float packedB, ref float c, int ldc, ref readonly float bias, float alpha, float beta, bool lastBlock)
        where TEpilogue : IGemmEpilogue;
}
