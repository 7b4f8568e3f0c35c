using System;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace KernelDsl.Cpu;

/// <summary>
/// target[i] += scale·source[i], the accumulation of the backward pass's gradients: its blocks' dK, dV and dQ into the
/// outputs, and a rank's dK/dV into the travelling accumulator. One fused multiply-add per element (with scale 1 exactly
/// target + source, rounded once).
/// </summary>
internal static class CpuScaledAdd
{
    /// <exception cref="ArgumentException">The lengths differ.</exception>
    public static void Add(Span<float> target, ReadOnlySpan<float> source, float scale)
    {
        if (target.Length != source.Length)
        {
            throw new ArgumentException($"target holds {target.Length} values and source {source.Length}.", nameof(source));
        }
        ref float t = ref MemoryMarshal.GetReference(target);
        ref float s = ref MemoryMarshal.GetReference(source);
        var factor = Vector256.Create(scale);
        int i = 0;
        for (; i + Vector256<float>.Count <= target.Length; i += Vector256<float>.Count)
        {
            Vector256.FusedMultiplyAdd(Vector256.LoadUnsafe(ref s, (nuint)i), factor, Vector256.LoadUnsafe(ref t, (nuint)i)).StoreUnsafe(ref t, (nuint)i);
        }
        for (; i < target.Length; i++)
        {
            target[i] = MathF.FusedMultiplyAdd(source[i], scale, target[i]);
        }
    }
}
