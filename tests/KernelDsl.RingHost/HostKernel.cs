using System;
using KernelDsl.Cpu;
using KernelDsl.Ring;

namespace KernelDsl.RingHost;

/// <summary>A generated fp32 ring attention kernel: its plan and the two entry points the host calls.</summary>
internal sealed record HostKernel(AttentionInfo Info, HostKernel.RingForward Forward, HostKernel.RingForwardStep ForwardStep)
{
    /// <summary>The generated <c>Forward</c>: the whole ring pass on one rank.</summary>
    public delegate RingAttentionTimings RingForward(
        IRingCommunicator ring, int heads, int kvHeads, int sequenceLength,
        ReadOnlySpan<float> q, ReadOnlySpan<float> k, ReadOnlySpan<float> v, Span<float> o, Span<float> lse, CpuIsa? isa);

    /// <summary>The generated <c>ForwardStep</c>: one shard merged into a running state, without communication.</summary>
    public delegate void RingForwardStep(
        int heads, int kvHeads, int sequenceLength, int ranks, int rank, int sourceRank,
        ReadOnlySpan<float> q, ReadOnlySpan<float> k, ReadOnlySpan<float> v, Span<float> runningO, Span<float> runningLse, CpuIsa? isa);
}
