using System;

namespace KernelDsl.Ring;

/// <summary>
/// An arithmetic run of global positions: <see cref="Start"/>, <see cref="Start"/> + <see cref="Stride"/>, …,
/// <see cref="Length"/> of them. A rank's shard is one or two segments; a tile of a segment is again
/// a segment (<see cref="Slice"/>), so a kernel can classify tiles exactly as it classifies shards.
/// </summary>
public readonly record struct SequenceSegment
{
    /// <summary>Creates a segment.</summary>
    /// <param name="start">Global position of the first token (≥ 0).</param>
    /// <param name="length">Number of tokens (≥ 0).</param>
    /// <param name="stride">Distance between consecutive positions (≥ 1).</param>
    /// <exception cref="ArgumentOutOfRangeException">A value is out of range.</exception>
    public SequenceSegment(int start, int length, int stride)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(start);
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        ArgumentOutOfRangeException.ThrowIfLessThan(stride, 1);
        Start = start;
        Length = length;
        Stride = stride;
    }

    /// <summary>Global position of the first token.</summary>
    public int Start { get; }

    /// <summary>Number of tokens.</summary>
    public int Length { get; }

    /// <summary>Distance between consecutive positions: 1 for contiguous and zigzag chunks, P for striped.</summary>
    public int Stride { get; }

    /// <summary>Global position of the last token; meaningful only when <see cref="Length"/> &gt; 0.</summary>
    public int Last => Start + (Length - 1) * Stride;

    /// <summary>Global position of the token at <paramref name="index"/> (0 ≤ index &lt; <see cref="Length"/>; not checked).</summary>
    /// <param name="index">Index within the segment.</param>
    /// <returns><see cref="Start"/> + index·<see cref="Stride"/>.</returns>
    public int Position(int index) => Start + index * Stride;

    /// <summary>The sub-run of <paramref name="length"/> tokens from index <paramref name="offset"/>, e.g. one tile of rows.</summary>
    /// <param name="offset">First index of the slice within this segment.</param>
    /// <param name="length">Number of tokens in the slice.</param>
    /// <returns>A segment with the same stride.</returns>
    /// <exception cref="ArgumentOutOfRangeException">The slice does not lie within this segment.</exception>
    public SequenceSegment Slice(int offset, int length)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(length, Length - offset);
        return new SequenceSegment(Start + offset * Stride, length, Stride);
    }
}
