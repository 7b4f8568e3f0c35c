using System;
using KernelDsl.Cpu;
using KernelDsl.Ring;

namespace KernelDsl.Tests.Attention;

// The generated entry points take spans, so the tests reach them through delegates of these shapes.

internal delegate RingAttentionTimings ForwardFunction<T>(
    IRingCommunicator ring, int heads, int kvHeads, int sequenceLength,
    ReadOnlySpan<T> q, ReadOnlySpan<T> k, ReadOnlySpan<T> v, Span<T> o, Span<float> lse, CpuIsa? isa);

internal delegate void ForwardStepFunction<T>(
    int heads, int kvHeads, int sequenceLength, int ranks, int rank, int sourceRank,
    ReadOnlySpan<T> q, ReadOnlySpan<T> k, ReadOnlySpan<T> v, Span<float> runningO, Span<float> runningLse, CpuIsa? isa);

internal delegate void FinalizeFunction<T>(ReadOnlySpan<float> runningO, ReadOnlySpan<float> runningLse, Span<T> o, Span<float> lse);

internal delegate void AttentionFunction<T>(
    ReadOnlySpan<T> q, ReadOnlySpan<T> k, ReadOnlySpan<T> v, Span<T> o, Span<float> lse, int heads, int kvHeads, int sequenceLength, CpuIsa? isa);

/// <summary>One generated ring-attention kernel as the tests drive it: its plan and its public CPU entry points.</summary>
internal abstract class AttentionKernel
{
    public abstract AttentionInfo Info { get; }

    public string Name => Info.Name[(Info.Name.LastIndexOf('.') + 1)..];

    /// <summary>The kernels of <see cref="AttentionTestKernels"/> by class name.</summary>
    public static AttentionKernel Named(string name) => name switch
    {
        nameof(F32CausalContiguous) => Float(F32CausalContiguous.Info, F32CausalContiguous.Forward, F32CausalContiguous.ForwardStep, F32CausalContiguous.Finalize, F32CausalContiguous.Attention),
        nameof(F32CausalStriped) => Float(F32CausalStriped.Info, F32CausalStriped.Forward, F32CausalStriped.ForwardStep, F32CausalStriped.Finalize, F32CausalStriped.Attention),
        nameof(F32CausalZigzag) => Float(F32CausalZigzag.Info, F32CausalZigzag.Forward, F32CausalZigzag.ForwardStep, F32CausalZigzag.Finalize, F32CausalZigzag.Attention),
        nameof(F32Contiguous) => Float(F32Contiguous.Info, F32Contiguous.Forward, F32Contiguous.ForwardStep, F32Contiguous.Finalize, F32Contiguous.Attention),
        nameof(F32Striped) => Float(F32Striped.Info, F32Striped.Forward, F32Striped.ForwardStep, F32Striped.Finalize, F32Striped.Attention),
        nameof(F32Zigzag) => Float(F32Zigzag.Info, F32Zigzag.Forward, F32Zigzag.ForwardStep, F32Zigzag.Finalize, F32Zigzag.Attention),
        nameof(F32D128CausalZigzag) => Float(F32D128CausalZigzag.Info, F32D128CausalZigzag.Forward, F32D128CausalZigzag.ForwardStep, F32D128CausalZigzag.Finalize, F32D128CausalZigzag.Attention),
        nameof(F32D128Striped) => Float(F32D128Striped.Info, F32D128Striped.Forward, F32D128Striped.ForwardStep, F32D128Striped.Finalize, F32D128Striped.Attention),
        nameof(F16CausalZigzag) => Half(F16CausalZigzag.Info, F16CausalZigzag.Forward, F16CausalZigzag.ForwardStep, F16CausalZigzag.Finalize, F16CausalZigzag.Attention),
        nameof(F16D128Contiguous) => Half(F16D128Contiguous.Info, F16D128Contiguous.Forward, F16D128Contiguous.ForwardStep, F16D128Contiguous.Finalize, F16D128Contiguous.Attention),
        nameof(BF16CausalStriped) => BFloat(BF16CausalStriped.Info, BF16CausalStriped.Forward, BF16CausalStriped.ForwardStep, BF16CausalStriped.Finalize, BF16CausalStriped.Attention),
        nameof(BF16D128CausalContiguous) => BFloat(BF16D128CausalContiguous.Info, BF16D128CausalContiguous.Forward, BF16D128CausalContiguous.ForwardStep, BF16D128CausalContiguous.Finalize, BF16D128CausalContiguous.Attention),
        _ => throw new ArgumentOutOfRangeException(nameof(name), name, "No such test kernel."),
    };

    /// <summary>Runs the full ring (every rank through <c>Forward</c>) and compares with float64 attention.</summary>
    public abstract AttentionOutcome RunRing(AttentionCase check);

    /// <summary>Drives the schedule by hand: every rank's shards through <c>ForwardStep</c> in <paramref name="order"/>, then <c>Finalize</c>.</summary>
    public abstract AttentionOutcome RunSteps(AttentionCase check, Func<int, int, int> order);

    /// <summary>One device through <c>Attention</c> (no ring).</summary>
    public abstract AttentionOutcome RunSingle(AttentionCase check);

    /// <summary>
    /// One <c>ForwardStep</c> of <paramref name="rank"/>'s queries against <paramref name="sourceRank"/>'s shard, then
    /// <c>Finalize</c>: the attention over that shard's keys alone, compared with float64 over the same keys.
    /// </summary>
    public abstract AttentionOutcome RunOneStep(AttentionCase check, int rank, int sourceRank);

    private static AttentionKernel<float> Float(AttentionInfo info, ForwardFunction<float> forward, ForwardStepFunction<float> step, FinalizeFunction<float> finalize, AttentionFunction<float> single) =>
        new(info, forward, step, finalize, single, x => x, x => x);

    private static AttentionKernel<Half> Half(AttentionInfo info, ForwardFunction<Half> forward, ForwardStepFunction<Half> step, FinalizeFunction<Half> finalize, AttentionFunction<Half> single) =>
        new(info, forward, step, finalize, single, x => (Half)x, x => (float)x);

    private static AttentionKernel<BFloat16> BFloat(AttentionInfo info, ForwardFunction<BFloat16> forward, ForwardStepFunction<BFloat16> step, FinalizeFunction<BFloat16> finalize, AttentionFunction<BFloat16> single) =>
        new(info, forward, step, finalize, single, x => (BFloat16)x, x => (float)x);
}
