using System;

namespace KernelDsl.Ring;

/// <summary>
/// The CPU block kernel of one ring-attention kernel at one vector width, as <see cref="RingAttentionDriver"/> runs it:
/// the step of <see cref="CpuAttentionStep{TTiles, TScores, TElement}"/> with <typeparamref name="TTiles"/>'s register
/// tiles and <typeparamref name="TScores"/>'s head dimension and scale. Composed by <see cref="CpuRingAttention"/>.
/// </summary>
internal readonly struct CpuAttentionKernel<TTiles, TScores, TElement> : IAttentionBlockKernel<TElement>
    where TTiles : struct, ICpuAttentionTiles
    where TScores : struct, IAttentionScores
    where TElement : unmanaged
{
    public static void Step(in AttentionStepArguments arguments, ReadOnlySpan<TElement> q, ReadOnlySpan<TElement> k, ReadOnlySpan<TElement> v, Span<float> runningO, Span<float> runningLse)
        => CpuAttentionStep<TTiles, TScores, TElement>.Run(in arguments, q, k, v, runningO, runningLse);

    public static void Finalize(ReadOnlySpan<float> runningO, ReadOnlySpan<float> runningLse, Span<TElement> o, Span<float> lse)
    {
        Cpu.CpuConvert.FromSingle(runningO, o);
        runningLse.CopyTo(lse);
    }
}
