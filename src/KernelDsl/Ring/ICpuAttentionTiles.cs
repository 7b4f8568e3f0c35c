using KernelDsl.Cpu;

namespace KernelDsl.Ring;

/// <summary>
/// The register tiles of the CPU attention block kernel for one vector width, which
/// <see cref="CpuAttentionStep{TTiles, TScores, TElement}"/> runs for each block of <see cref="QRows"/> query rows
/// against a tile of <see cref="KvRows"/> keys. Static abstract members: the step's generic code is compiled once per
/// width and kernel, with these calls bound directly.
/// </summary>
internal interface ICpuAttentionTiles
{
    static abstract CpuIsa Isa { get; }

    /// <summary>Query rows of one register tile: they share every K and V load.</summary>
    static abstract int QRows { get; }

    /// <summary>Keys per K/V tile.</summary>
    static abstract int KvRows { get; }

    /// <summary>
    /// S = Q·Kᵀ for a block of QRows query rows (fp32, HeadDim apart) against the first <paramref name="count"/> keys of
    /// a packed Kᵀ tile (row c of Kᵀ at keys[c·KvRows]); row i of S at scores[i·KvRows]. In log₂ units, since the
    /// queries were scaled by ScaleLog2. Keys past the count up to the register tile's width are the tile's zero padding.
    /// </summary>
    static abstract void Scores(ref readonly float queries, ref readonly float keys, int count, ref float scores);

    /// <summary>
    /// The online-softmax update of one block's QRows rows of S (KvRows apart, log₂ units; masked scores −∞), with m, l
    /// and α of those rows at <paramref name="max"/>, <paramref name="sum"/>, <paramref name="rescale"/>: per row i,
    /// m′ = max(mᵢ, maxⱼ s[i, j]); p[i, j] = 2^{s[i, j] − m′} in place over S; αᵢ = 2^{mᵢ − m′}; lᵢ ← αᵢ·lᵢ + Σⱼ p[i, j];
    /// mᵢ ← m′. αᵢ is exactly 1 when the max did not move (no scalar exp2 then); a row that has seen no key yet keeps
    /// m = −∞, gets P = 0 (its shift is 0, so 2^{−∞} = 0) and α = 1. The maxima take the platform's max (one
    /// instruction, not IEEE's three with AVX-512): a NaN score may be left out of m′, but its p = 2^NaN is NaN and
    /// carries it into l and O. All rows advance together: one row at a time, each row's reduction and exp2 chain
    /// waited on the one before.
    /// </summary>
    static abstract void Softmax(ref float scores, ref float max, ref float sum, ref float rescale);

    /// <summary>
    /// O ← αᵢ·O + P·V for the block's QRows rows of O (HeadDim apart): o[i, c] = αᵢ·o[i, c] + Σⱼ p[i, j]·v[j, c] over the
    /// first <paramref name="keys"/> keys; P is QRows rows KvRows apart, V is rows of HeadDim fp32 values.
    /// </summary>
    static abstract void Accumulate(ref readonly float probabilities, ref readonly float values, int keys, ref readonly float rescale, ref float output);
}
