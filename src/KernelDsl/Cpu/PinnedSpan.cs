using System;

namespace KernelDsl.Cpu;

/// <summary>
/// A span's memory as an address and a length, which worker threads can hold (a span cannot leave its stack
/// frame, and a <c>Parallel.For</c> body is another frame). Valid only while the memory is pinned, i.e. inside
/// the callback of <see cref="Ring.PinnedAttentionTensors{TElement}.Pin"/>; the CPU attention step uses it there so
/// that its worker threads read the caller's tensors in place instead of copies.
/// </summary>
/// <typeparam name="T">The element type.</typeparam>
public readonly unsafe struct PinnedSpan<T>
    where T : unmanaged
{
    private readonly T* address;

    internal PinnedSpan(T* address, int length)
    {
        this.address = address;
        Length = length;
    }

    /// <summary>Elements in the view.</summary>
    public int Length { get; }

    /// <summary>Element <paramref name="index"/>, bounds-checked.</summary>
    /// <exception cref="IndexOutOfRangeException"><paramref name="index"/> is outside 0 … Length − 1.</exception>
    public ref T this[int index]
    {
        get
        {
            if ((uint)index >= (uint)Length)
            {
                throw new IndexOutOfRangeException($"Index {index} is outside a pinned span of {Length} elements.");
            }
            return ref address[index];
        }
    }

    /// <summary>Elements <paramref name="start"/> … <paramref name="start"/> + <paramref name="length"/> − 1 as a span, bounds-checked.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The range is not inside the view.</exception>
    public Span<T> Slice(int start, int length)
    {
        if ((uint)start > (uint)Length || (uint)length > (uint)(Length - start))
        {
            throw new ArgumentOutOfRangeException(nameof(length), $"Elements {start} … {start + length - 1} are outside a pinned span of {Length} elements.");
        }
        return new Span<T>(address + start, length);
    }
}
