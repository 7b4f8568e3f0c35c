using System.Runtime.CompilerServices;

namespace KernelDsl.Cpu;

/// <summary>
/// The two copies that pack a GEMM sliver. A sliver is <c>width</c> lines of op(X) (rows of op(A), columns of op(B)),
/// <c>depth</c> deep, stored as floats with element (line, p) at <c>packed[p·width + line]</c>; lines past the edge of
/// the matrix are zero, so the microkernel always computes a full tile. 16-bit operands are widened to float here,
/// once per K block, so the microkernel is fp32 only.
/// </summary>
internal static class GemmPacking
{
    /// <summary>
    /// Lines copied together by <see cref="Transposing"/>: one general register each, and each depth then writes
    /// them side by side (16 bytes of fp32) instead of one float per line.
    /// </summary>
    private const int LineGroup = 4;

    /// <summary>
    /// Packs lines stored along the sliver: line l at depth p is <c>source[(p0 + p)·ld + line0 + l]</c>, so each depth's
    /// <paramref name="lines"/> values are one contiguous run, copied (and widened) with vector loads.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Runs<T>(ref readonly T source, int ld, int line0, int lines, int p0, int depth, ref float packed, int width)
        where T : unmanaged
    {
        for (int p = 0; p < depth; p++)
        {
            ref float to = ref Unsafe.Add(ref packed, p * width);
            CpuConvert.Widen(in Unsafe.Add(ref Unsafe.AsRef(in source), (nint)(p0 + p) * ld + line0), ref to, lines);
            for (int l = lines; l < width; l++)
            {
                Unsafe.Add(ref to, l) = 0f;
            }
        }
    }

    /// <summary>
    /// Packs lines stored across the sliver: line l at depth p is <c>source[(line0 + l)·ld + p0 + p]</c>, each line
    /// contiguous along the depth, so the copy transposes: <see cref="LineGroup"/> lines walked together, one
    /// reference per line, then any remaining lines one at a time.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Transposing<T>(ref readonly T source, int ld, int line0, int lines, int p0, int depth, ref float packed, int width)
        where T : unmanaged
    {
        ref T first = ref Unsafe.Add(ref Unsafe.AsRef(in source), (nint)line0 * ld + p0);
        int l = 0;
        for (; l + LineGroup <= lines; l += LineGroup)
        {
            ref T line0Ref = ref Unsafe.Add(ref first, (nint)l * ld);
            ref T line1Ref = ref Unsafe.Add(ref line0Ref, ld);
            ref T line2Ref = ref Unsafe.Add(ref line1Ref, ld);
            ref T line3Ref = ref Unsafe.Add(ref line2Ref, ld);
            ref float to = ref Unsafe.Add(ref packed, l);
            for (int p = 0; p < depth; p++)
            {
                Unsafe.Add(ref to, 0) = CpuConvert.ToSingle(Unsafe.Add(ref line0Ref, p));
                Unsafe.Add(ref to, 1) = CpuConvert.ToSingle(Unsafe.Add(ref line1Ref, p));
                Unsafe.Add(ref to, 2) = CpuConvert.ToSingle(Unsafe.Add(ref line2Ref, p));
                Unsafe.Add(ref to, 3) = CpuConvert.ToSingle(Unsafe.Add(ref line3Ref, p));
                to = ref Unsafe.Add(ref to, width);
            }
        }
        for (; l < lines; l++)
        {
            ref T line = ref Unsafe.Add(ref first, (nint)l * ld);
            for (int p = 0; p < depth; p++)
            {
                Unsafe.Add(ref packed, p * width + l) = CpuConvert.ToSingle(Unsafe.Add(ref line, p));
            }
        }
        for (; l < width; l++)
        {
            for (int p = 0; p < depth; p++)
            {
                Unsafe.Add(ref packed, p * width + l) = 0f;
            }
        }
    }
}
