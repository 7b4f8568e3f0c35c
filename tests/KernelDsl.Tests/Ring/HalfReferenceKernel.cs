using System;
using KernelDsl.Ring;

namespace KernelDsl.Tests.Ring;

/// <summary>
/// The reference kernel over <see cref="Half"/> operands (widened to fp32, output rounded back): checks
/// that the driver packs and exchanges 2-byte elements correctly.
/// </summary>
internal readonly struct HalfReferenceKernel : IAttentionBlockKernel<Half>
{
    public static void Step(
        in AttentionStepArguments arguments,
        ReadOnlySpan<Half> q,
        ReadOnlySpan<Half> k,
        ReadOnlySpan<Half> v,
        Span<float> runningO,
        Span<float> runningLse) =>
        ReferenceBlockKernel.Step(in arguments, Widen(q), Widen(k), Widen(v), runningO, runningLse);

    public static void Finalize(ReadOnlySpan<float> runningO, ReadOnlySpan<float> runningLse, Span<Half> o, Span<float> lse)
    {
        for (int i = 0; i < o.Length; i++)
        {
            o[i] = (Half)runningO[i];
        }
        runningLse.CopyTo(lse);
    }

    private static float[] Widen(ReadOnlySpan<Half> values)
    {
        var wide = new float[values.Length];
        for (int i = 0; i < values.Length; i++)
        {
            wide[i] = (float)values[i];
        }
        return wide;
    }
}
