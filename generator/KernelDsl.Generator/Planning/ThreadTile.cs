namespace KernelDsl.Generator.Planning;

/// <summary>
/// Splits a warp tile over the 32 lanes of a warp: lanes form a LanesM×LanesN grid (product 32)
/// and each owns an M×N block of accumulators. Shared by validation (to report when no split
/// exists) and planning (to pick one).
/// </summary>
internal sealed record ThreadTile(int LanesM, int LanesN, int M, int N)
{
    /// <summary>Most accumulators a thread may hold: 128 fp32 registers leaves room for operands and addresses under 255.</summary>
    public const int MaxAccumulators = 128;

    /// <summary>Longest side: the fully unrolled inner product reads M + N operands per k.</summary>
    public const int MaxSide = 16;

    /// <summary>
    /// The best split of a <paramref name="warpTileM"/>×<paramref name="warpTileN"/> warp tile, or null.
    /// Preference: sides that are multiples of 4 (so shared-memory reads are float4), then the
    /// squarest block (fewest operand reads per FMA: (M + N) / (M·N)), then the taller one.
    /// </summary>
    public static ThreadTile? Find(int warpTileM, int warpTileN)
    {
        ThreadTile? best = null;
        for (int lanesM = 1; lanesM <= 32; lanesM *= 2)
        {
            int lanesN = 32 / lanesM;
            if (warpTileM % lanesM != 0 || warpTileN % lanesN != 0)
            {
                continue;
            }
            var candidate = new ThreadTile(lanesM, lanesN, warpTileM / lanesM, warpTileN / lanesN);
            if (candidate.M > MaxSide || candidate.N > MaxSide || candidate.M * candidate.N > MaxAccumulators)
            {
                continue;
            }
            if (best is null || candidate.IsBetterThan(best))
            {
                best = candidate;
            }
        }
        return best;
    }

    private bool IsBetterThan(ThreadTile other)
    {
        bool vector = M % 4 == 0 && N % 4 == 0, otherVector = other.M % 4 == 0 && other.N % 4 == 0;
        if (vector != otherVector)
        {
            return vector;
        }
        int skew = System.Math.Abs(M - N), otherSkew = System.Math.Abs(other.M - other.N);
        return skew != otherSkew ? skew < otherSkew : M > other.M;
    }
}
