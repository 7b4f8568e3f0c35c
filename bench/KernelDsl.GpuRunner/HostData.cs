using System;
using System.Threading.Tasks;

namespace KernelDsl.GpuRunner;

/// <summary>Random host operands: uniform in [−1, 1) rounded to the element type, never zeros, reproducible from a seed.</summary>
internal static class HostData
{
    private const int Chunk = 1 << 18;

    /// <summary>A stored rows×cols matrix with row stride <paramref name="ld"/> ≥ cols, followed by <paramref name="tail"/> elements.
    /// The row padding and the tail hold NaN: a kernel that reads outside the matrix poisons its output.</summary>
    public static T[] Matrix<T, TE>(int rows, int cols, int ld, int tail, int seed)
        where T : unmanaged
        where TE : IElement<T>
    {
        if (ld < cols)
        {
            throw new ArgumentOutOfRangeException(nameof(ld));
        }
        long total = (long)rows * ld + tail;
        var values = new T[checked((int)total)];
        int chunks = (int)((total + Chunk - 1) / Chunk);
        Parallel.For(0, chunks, chunk =>
        {
            var random = new Random(unchecked(seed * 1_000_003 + chunk));
            int end = (int)Math.Min(total, (long)(chunk + 1) * Chunk);
            for (int index = chunk * Chunk; index < end; index++)
            {
                long row = index / ld, col = index % ld;
                values[index] = row < rows && col < cols ? TE.From(random.NextSingle() * 2 - 1) : TE.NaN;
            }
        });
        return values;
    }

    /// <summary>A dense vector of random values.</summary>
    public static T[] Vector<T, TE>(int length, int seed)
        where T : unmanaged
        where TE : IElement<T>
        => Matrix<T, TE>(1, length, Math.Max(length, 1), 0, seed)[..length];

    /// <summary>Rounds <paramref name="value"/> up to a multiple of <paramref name="multiple"/>.</summary>
    public static int RoundUp(int value, int multiple) => (value + multiple - 1) / multiple * multiple;
}
