using System;
using System.Threading;
using KernelDsl.Ring;

namespace KernelDsl.Tests.Ring;

/// <summary>
/// The reference kernel plus a fixed <see cref="StepTime"/> of sleep per step: a block whose duration is
/// known and does not compete for the CI machine's two cores, so that overlap can be timed.
/// </summary>
internal readonly struct SlowBlockKernel : IAttentionBlockKernel<float>
{
    public static readonly TimeSpan StepTime = TimeSpan.FromMilliseconds(60);

    public static void Step(
        in AttentionStepArguments arguments,
        ReadOnlySpan<float> q,
        ReadOnlySpan<float> k,
        ReadOnlySpan<float> v,
        Span<float> runningO,
        Span<float> runningLse)
    {
        Thread.Sleep(StepTime);
        ReferenceBlockKernel.Step(in arguments, q, k, v, runningO, runningLse);
    }

    public static void Finalize(ReadOnlySpan<float> runningO, ReadOnlySpan<float> runningLse, Span<float> o, Span<float> lse) =>
        ReferenceBlockKernel.Finalize(runningO, runningLse, o, lse);
}
