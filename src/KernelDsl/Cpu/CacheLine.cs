using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace KernelDsl.Cpu;

/// <summary>
/// The 64-byte cache line that the CPU kernels' buffers start on. A 512-bit load from a row that starts inside a line
/// touches two lines (a 256-bit load, every other one); rows whose lengths are multiples of 16 floats keep the buffer's
/// alignment, so aligning the start aligns every row.
/// </summary>
internal static class CacheLine
{
    /// <summary>Bytes per line.</summary>
    public const int Bytes = 64;

    /// <summary>Floats per line: the slack a buffer needs for its first aligned float.</summary>
    public const int Floats = Bytes / sizeof(float);

    /// <summary>The index of the first float of a pinned array that starts a cache line.</summary>
    public static unsafe int FirstAligned(float[] pinned)
    {
        nuint address = (nuint)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(pinned));
        return (int)((Bytes - address % Bytes) % Bytes / sizeof(float));
    }

    /// <summary>The first address at or after <paramref name="buffer"/> that starts a cache line.</summary>
    public static unsafe float* Aligned(float* buffer) => (float*)(((nuint)buffer + (Bytes - 1)) & ~(nuint)(Bytes - 1));
}
