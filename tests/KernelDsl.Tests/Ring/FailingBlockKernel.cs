using System;
using KernelDsl.Ring;

namespace KernelDsl.Tests.Ring;

/// <summary>The reference kernel, except that rank 1 throws when it reaches the shard of rank 0 (its step 1).</summary>
internal readonly struct FailingBlockKernel : IAttentionBlockKernel<float>
{
    public static void Step(
        in AttentionStepArguments arguments,
        ReadOnlySpan<float> q,
        ReadOnlySpan<float> k,
        ReadOnlySpan<float> v,
        Span<float> runningO,
        Span<float> runningLse)
    {
        if (arguments.QueryShard.Rank == 1 && arguments.KeyShard.Rank == 0)
        {
            throw new InvalidOperationException("block kernel failed on rank 1");
        }
        ReferenceBlockKernel.Step(in arguments, q, k, v, runningO, runningLse);
    }

    public static void Finalize(ReadOnlySpan<float> runningO, ReadOnlySpan<float> runningLse, Span<float> o, Span<float> lse) =>
        ReferenceBlockKernel.Finalize(runningO, runningLse, o, lse);
}
