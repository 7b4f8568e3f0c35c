using System;

namespace KernelDsl;

/// <summary>
/// The warp grid of a thread block: <paramref name="m"/> warps along the tile's M dimension by
/// <paramref name="n"/> along N. Each warp owns a (TileM / m)×(TileN / n) warp tile.
/// Default: 2×4 (256 threads). For ring attention only <paramref name="m"/> counts: warps split
/// the query rows of a block (default 4).
/// </summary>
/// <param name="m">Warps along M.</param>
/// <param name="n">Warps along N.</param>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false, Inherited = false)]
public sealed class WarpsAttribute(int m, int n = 1) : Attribute
{
    /// <summary>Warps along M.</summary>
    public int M { get; } = m;

    /// <summary>Warps along N.</summary>
    public int N { get; } = n;
}
