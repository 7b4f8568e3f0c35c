namespace KernelDsl.Ring;

/// <summary>
/// Which (query, key) pairs of a block are visible under the mask, decided from the block's
/// position bounds alone (<see cref="RingMask.Visibility(int, int, int, int, bool)"/>).
/// </summary>
public enum BlockVisibility
{
    /// <summary>No query sees any key: the block is skipped.</summary>
    None = 0,

    /// <summary>Some pairs are visible and some are not: the kernel masks per element (key ≤ query).</summary>
    Partial = 1,

    /// <summary>Every query sees every key: the kernel computes the block without a mask.</summary>
    Full = 2,
}
