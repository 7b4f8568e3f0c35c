namespace KernelDsl.Ring;

/// <summary>
/// The register tiles of <see cref="CpuAttentionBackward{TTiles}"/> for one vector width: <see cref="TileRows"/> rows ×
/// <see cref="CpuAttentionBackward.TileColumns"/> floats (16 keys of the scores, or 16 of d in the products) held in
/// registers while the inner loop runs. Static abstract members: the backward's generic code is compiled once per
/// width, with these calls bound directly and inlined.
/// </summary>
internal interface IBackwardTiles
{
    /// <summary>Rows of one register tile: they share each vector load of the inner loop. A divisor of the blocks' 48.</summary>
    static abstract int TileRows { get; }

    /// <summary>
    /// out[i, j] = rows[i, :]·T[:, j] for <paramref name="rowCount"/> rows (a multiple of <see cref="TileRows"/>, d apart)
    /// and <paramref name="columnCount"/> keys (a multiple of 16) against a transposed block T ([d][KBlock]); out
    /// [rows][KBlock].
    /// </summary>
    static abstract unsafe void RowsTimesTransposed(float* rows, float* transposed, float* output, int d, int rowCount, int columnCount);

    /// <summary>
    /// out[r, :] += Σ_x m[r·rowStep + x·innerStep]·rows[x, :] for r &lt; <paramref name="outputs"/> (a multiple of
    /// <see cref="TileRows"/>) and x &lt; <paramref name="inner"/> (rows and out d apart, d a multiple of 16): a tile of
    /// output rows × 16 or more of d, each row vector loaded once for the tile. The steps are constants where this is inlined.
    /// </summary>
    static abstract unsafe void AddProducts(float* m, int rowStep, int innerStep, float* rows, float* output, int outputs, int inner, int d);

    /// <summary>
    /// One row of a block, <paramref name="columns"/> (a multiple of 16) long: over the scores s = q·k in
    /// <paramref name="p"/>, P = 2^{s·scaleLog2 − lseLog2} (L·log₂e: P in base 2, −∞ scores give exactly 0), and over
    /// dP = dO·vᵀ in <paramref name="ds"/>, dS = P ∘ (dP − delta).
    /// </summary>
    static abstract unsafe void Gradients(float* p, float* ds, int columns, float scaleLog2, float lseLog2, float delta);
}
