using System;
using KernelDsl.Ring;

namespace KernelDsl.Tests.Ring;

/// <summary>
/// The reference kernel, except that rank 1 throws on its own shard (its step 0). Failing there, before rank 1
/// has posted its second exchange, leaves every other rank needing something rank 1 will never send, so all of
/// them must fail. (Failing at step 1 instead would let rank 3 finish correctly: it has received every shard by
/// the time its last exchange completes, which races with rank 1's throw.)
/// </summary>
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
        if (arguments.QueryShard.Rank == 1 && arguments.KeyShard.Rank == 1)
        {
            throw new InvalidOperationException("block kernel failed on rank 1");
        }
        ReferenceBlockKernel.Step(in arguments, q, k, v, runningO, runningLse);
    }

    public static void Finalize(ReadOnlySpan<float> runningO, ReadOnlySpan<float> runningLse, Span<float> o, Span<float> lse) =>
        ReferenceBlockKernel.Finalize(runningO, runningLse, o, lse);
}
