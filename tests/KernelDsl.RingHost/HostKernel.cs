using System;
using System.Runtime.InteropServices;
using KernelDsl.Cpu;
using KernelDsl.Ring;

namespace KernelDsl.RingHost;

/// <summary>A generated fp32 ring attention kernel: its plan and the two entry points the host calls.</summary>
internal sealed record HostKernel(
    AttentionInfo Info, HostKernel.RingForward Forward, HostKernel.RingForwardStep ForwardStep, HostKernel.RingBackward Backward,
    HostKernel.RingBackwardStep BackwardStep, HostKernel.RingBackwardDelta BackwardDelta)
{
    /// <summary>The entry points of <typeparamref name="TKernel"/>, an fp32 kernel (<typeparamref name="T"/> is float; the casts change nothing).</summary>
    public static HostKernel Of<TKernel, T>()
        where TKernel : IAttentionKernel<T>
        where T : unmanaged
    {
        if (typeof(T) != typeof(float))
        {
            throw new ArgumentException($"The ring host runs fp32 kernels; {TKernel.Info.Name} is {TKernel.Info.Element}.", nameof(T));
        }
        return new(TKernel.Info,
            (ring, heads, kvHeads, length, q, k, v, o, lse, isa) => TKernel.Forward(ring, heads, kvHeads, length,
                MemoryMarshal.Cast<float, T>(q), MemoryMarshal.Cast<float, T>(k), MemoryMarshal.Cast<float, T>(v), MemoryMarshal.Cast<float, T>(o), lse, isa),
            (heads, kvHeads, length, ranks, rank, source, q, k, v, runningO, runningLse, isa) => TKernel.ForwardStep(heads, kvHeads, length, ranks, rank, source,
                MemoryMarshal.Cast<float, T>(q), MemoryMarshal.Cast<float, T>(k), MemoryMarshal.Cast<float, T>(v), runningO, runningLse, isa),
            (ring, heads, kvHeads, length, q, k, v, o, lse, dO, dQ, dK, dV) => TKernel.Backward(ring, heads, kvHeads, length,
                MemoryMarshal.Cast<float, T>(q), MemoryMarshal.Cast<float, T>(k), MemoryMarshal.Cast<float, T>(v), MemoryMarshal.Cast<float, T>(o), lse,
                MemoryMarshal.Cast<float, T>(dO), MemoryMarshal.Cast<float, T>(dQ), MemoryMarshal.Cast<float, T>(dK), MemoryMarshal.Cast<float, T>(dV)),
            (heads, kvHeads, length, ranks, rank, source, q, k, v, dO, lse, delta, dQ, dK, dV) => TKernel.BackwardStep(heads, kvHeads, length, ranks, rank, source,
                MemoryMarshal.Cast<float, T>(q), MemoryMarshal.Cast<float, T>(k), MemoryMarshal.Cast<float, T>(v), MemoryMarshal.Cast<float, T>(dO), lse, delta, dQ, dK, dV),
            (o, dO, delta) => TKernel.BackwardDelta(MemoryMarshal.Cast<float, T>(o), MemoryMarshal.Cast<float, T>(dO), delta));
    }

    /// <summary>The generated <c>Forward</c>: the whole ring pass on one rank.</summary>
    public delegate RingAttentionTimings RingForward(
        IRingCommunicator ring, int heads, int kvHeads, int sequenceLength,
        ReadOnlySpan<float> q, ReadOnlySpan<float> k, ReadOnlySpan<float> v, Span<float> o, Span<float> lse, CpuIsa? isa);

    /// <summary>The generated <c>ForwardStep</c>: one shard merged into a running state, without communication.</summary>
    public delegate void RingForwardStep(
        int heads, int kvHeads, int sequenceLength, int ranks, int rank, int sourceRank,
        ReadOnlySpan<float> q, ReadOnlySpan<float> k, ReadOnlySpan<float> v, Span<float> runningO, Span<float> runningLse, CpuIsa? isa);

    /// <summary>The generated <c>Backward</c>: the ring backward pass on one rank.</summary>
    public delegate void RingBackward(
        IRingCommunicator ring, int heads, int kvHeads, int sequenceLength,
        ReadOnlySpan<float> q, ReadOnlySpan<float> k, ReadOnlySpan<float> v, ReadOnlySpan<float> o, ReadOnlySpan<float> lse, ReadOnlySpan<float> dO,
        Span<float> dQ, Span<float> dK, Span<float> dV);

    /// <summary>The generated <c>BackwardStep</c>: one source shard's backward block into fp32 accumulators, without communication.</summary>
    public delegate void RingBackwardStep(
        int heads, int kvHeads, int sequenceLength, int ranks, int rank, int sourceRank,
        ReadOnlySpan<float> q, ReadOnlySpan<float> k, ReadOnlySpan<float> v, ReadOnlySpan<float> dO, ReadOnlySpan<float> lse, ReadOnlySpan<float> delta,
        Span<float> dQ, Span<float> dK, Span<float> dV);

    /// <summary>The generated <c>BackwardDelta</c>: D = rowsum(dO ∘ O).</summary>
    public delegate void RingBackwardDelta(ReadOnlySpan<float> o, ReadOnlySpan<float> dO, Span<float> delta);
}
