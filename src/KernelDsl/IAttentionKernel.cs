using System;
using KernelDsl.Cpu;
using KernelDsl.Cuda;
using KernelDsl.Ring;

namespace KernelDsl;

/// <summary>
/// A generated ring-attention kernel as a type, for code that handles kernels generically (the ring host, the GPU
/// runner, tests): every <c>[RingAttention]</c> class <c>K</c> gets a nested <c>K.Kernel</c> struct implementing this by
/// forwarding to <c>K</c>'s members of the same names, which document each argument.
/// </summary>
/// <typeparam name="TElement">The element of Q, K, V and O (<see cref="float"/>, <see cref="Half"/>, <see cref="BFloat16"/>).</typeparam>
public interface IAttentionKernel<TElement>
    where TElement : unmanaged
{
    /// <summary>The plan the generator chose (<c>K.Info</c>).</summary>
    static abstract AttentionInfo Info { get; }

    /// <summary>The step and finalize kernels' CUDA C (<c>K.CudaSource</c>).</summary>
    static abstract string CudaSource { get; }

    /// <summary><c>K.CudaBackwardSource</c>: the backward pass's CUDA C, or null where the kernel has none (<see cref="AttentionInfo.Backward"/>).</summary>
    static abstract string? CudaBackwardSource { get; }

    /// <summary><c>K.Forward</c>: ring attention on this rank, on the CPU.</summary>
    static abstract RingAttentionTimings Forward(IRingCommunicator ring, int heads, int kvHeads, int sequenceLength,
        ReadOnlySpan<TElement> q, ReadOnlySpan<TElement> k, ReadOnlySpan<TElement> v, Span<TElement> o, Span<float> lse, CpuIsa? isa);

    /// <summary><c>K.ForwardStep</c>: one block step of the ring, merged into the running state.</summary>
    static abstract void ForwardStep(int heads, int kvHeads, int sequenceLength, int ranks, int rank, int sourceRank,
        ReadOnlySpan<TElement> q, ReadOnlySpan<TElement> k, ReadOnlySpan<TElement> v, Span<float> runningO, Span<float> runningLse, CpuIsa? isa);

    /// <summary><c>K.Attention</c>: the whole sequence on one device, no ring.</summary>
    static abstract void Attention(ReadOnlySpan<TElement> q, ReadOnlySpan<TElement> k, ReadOnlySpan<TElement> v, Span<TElement> o, Span<float> lse,
        int heads, int kvHeads, int sequenceLength, CpuIsa? isa);

    /// <summary><c>K.Backward</c>: the ring backward pass on this rank, on the CPU.</summary>
    static abstract void Backward(IRingCommunicator ring, int heads, int kvHeads, int sequenceLength,
        ReadOnlySpan<TElement> q, ReadOnlySpan<TElement> k, ReadOnlySpan<TElement> v, ReadOnlySpan<TElement> o, ReadOnlySpan<float> lse, ReadOnlySpan<TElement> dO,
        Span<TElement> dQ, Span<TElement> dK, Span<TElement> dV);

    /// <summary><c>K.BackwardStep</c>: this rank's queries against one source shard's K and V, added into fp32 accumulators, without communication.</summary>
    static abstract void BackwardStep(int heads, int kvHeads, int sequenceLength, int ranks, int rank, int sourceRank,
        ReadOnlySpan<TElement> q, ReadOnlySpan<TElement> k, ReadOnlySpan<TElement> v, ReadOnlySpan<TElement> dO, ReadOnlySpan<float> lse, ReadOnlySpan<float> delta,
        Span<float> dQ, Span<float> dK, Span<float> dV);

    /// <summary><c>K.BackwardDelta</c>: D = rowsum(dO ∘ O), once per rank before its <c>BackwardStep</c>s.</summary>
    static abstract void BackwardDelta(ReadOnlySpan<TElement> o, ReadOnlySpan<TElement> dO, Span<float> delta);

    /// <summary><c>K.AttentionBackward</c>: the backward pass of the whole sequence on one device, no ring.</summary>
    static abstract void AttentionBackward(
        ReadOnlySpan<TElement> q, ReadOnlySpan<TElement> k, ReadOnlySpan<TElement> v, ReadOnlySpan<TElement> o, ReadOnlySpan<float> lse, ReadOnlySpan<TElement> dO,
        Span<TElement> dQ, Span<TElement> dK, Span<TElement> dV, int heads, int kvHeads, int sequenceLength);

    /// <summary><c>K.LaunchStep</c>: queues one step kernel on <paramref name="stream"/>.</summary>
    static abstract void LaunchStep(CudaStream stream, DeviceBuffer<TElement> q, DeviceBuffer<TElement> k, DeviceBuffer<TElement> v,
        DeviceBuffer<float> oRun, DeviceBuffer<float> lRun, int heads, int kvHeads, int queries, int keys, SequenceShard queryShard, SequenceShard keyShard);

    /// <summary><c>K.LaunchFinalize</c>: queues the finalize kernel on <paramref name="stream"/>.</summary>
    static abstract void LaunchFinalize(CudaStream stream, DeviceBuffer<float> oRun, DeviceBuffer<float> lRun, DeviceBuffer<TElement> o, DeviceBuffer<float> lse,
        int heads, int queries);

    /// <summary><c>K.LaunchBackwardDelta</c>: queues D = rowsum(dO ∘ O) on <paramref name="stream"/> (<see cref="NotSupportedException"/> where the kernel has no CUDA backward pass).</summary>
    static abstract void LaunchBackwardDelta(CudaStream stream, DeviceBuffer<TElement> o, DeviceBuffer<TElement> dO, DeviceBuffer<float> delta, int heads, int queries);

    /// <summary><c>K.LaunchBackwardStep</c>: queues one backward step, adding into the fp32 dQ, dK, dV (<see cref="NotSupportedException"/> where the kernel has no CUDA backward pass).</summary>
    static abstract void LaunchBackwardStep(CudaStream stream, DeviceBuffer<TElement> q, DeviceBuffer<TElement> k, DeviceBuffer<TElement> v, DeviceBuffer<TElement> dO,
        DeviceBuffer<float> lse, DeviceBuffer<float> delta, DeviceBuffer<float> dQ, DeviceBuffer<float> dK, DeviceBuffer<float> dV,
        int heads, int kvHeads, int queries, int keys, SequenceShard queryShard, SequenceShard keyShard);

    /// <summary><c>K.LaunchFinalizeGradient</c>: queues an fp32 accumulator's conversion to the element type (<see cref="NotSupportedException"/> where the kernel has no CUDA backward pass).</summary>
    static abstract void LaunchFinalizeGradient(CudaStream stream, DeviceBuffer<float> accumulator, DeviceBuffer<TElement> gradient, int count);
}
