using System;

namespace KernelDsl.Ring;

/// <summary>
/// A fused attention block kernel for the ring: attends the local queries to one K/V shard and merges
/// the result into the running fp32 state, then writes the final output. Implemented by the runtime's CPU
/// block kernels (<see cref="CpuRingAttention"/> composes one per instruction set and kernel) and by tests'
/// reference kernels, and driven by <see cref="RingAttentionDriver"/>; static members,
/// so the driver's generic code is specialised per kernel and nothing goes through a delegate.
/// </summary>
/// <typeparam name="TElement">The operand and output element: <see cref="float"/>, <see cref="Half"/> or <see cref="BFloat16"/>.</typeparam>
/// <remarks>
/// <para>
/// Layouts, all row-major: q and the running output O are [heads, Sq, d]; k and v are [kvHeads, Skv, d];
/// the running log-sum-exp L is [heads, Sq], natural log. The running state is the exact attention of
/// every query over all keys seen so far: O normalised, L = ln Σ e^{logit}. A row that has seen no
/// visible key holds O = 0, L = −∞.
/// </para>
/// <para>
/// Masking: for each (query segment, key segment) pair of the two shards, or any tile of them,
/// <see cref="RingMask.Visibility(SequenceSegment, SequenceSegment, bool)"/> says whether to skip it
/// (None), compute it without a mask (Full) or mask per element with
/// <see cref="RingMask.IsVisible"/> on global positions (Partial). Local order is position order, so a
/// tile's bounds are the positions of its first and last row.
/// </para>
/// </remarks>
public interface IAttentionBlockKernel<TElement>
    where TElement : unmanaged
{
    /// <summary>
    /// One ring step: computes, for every query row, the partial (O′, L′) of its attention over the visible
    /// keys of this shard (online softmax in fp32), and merges it into (<paramref name="runningO"/>,
    /// <paramref name="runningLse"/>) as <see cref="AttentionMerge"/> does. A row with no visible key in
    /// this shard must be left unchanged.
    /// </summary>
    /// <param name="arguments">Shape, scale, mask and positions.</param>
    /// <param name="q">Local queries, [Heads, QueryLength, HeadDim].</param>
    /// <param name="k">Keys of the shard, [KvHeads, KeyLength, HeadDim].</param>
    /// <param name="v">Values of the shard, [KvHeads, KeyLength, HeadDim].</param>
    /// <param name="runningO">Running normalised output, [Heads, QueryLength, HeadDim], updated in place.</param>
    /// <param name="runningLse">Running log-sum-exp, [Heads, QueryLength], updated in place.</param>
    static abstract void Step(
        in AttentionStepArguments arguments,
        ReadOnlySpan<TElement> q,
        ReadOnlySpan<TElement> k,
        ReadOnlySpan<TElement> v,
        Span<float> runningO,
        Span<float> runningLse);

    /// <summary>
    /// Writes the final state out: <paramref name="o"/>[i] = <paramref name="runningO"/>[i] converted to
    /// <typeparamref name="TElement"/> (round to nearest even), <paramref name="lse"/> = <paramref name="runningLse"/>.
    /// The spans have equal lengths pairwise.
    /// </summary>
    /// <param name="runningO">The running output after the last step.</param>
    /// <param name="runningLse">The running log-sum-exp after the last step.</param>
    /// <param name="o">The output, same layout as <paramref name="runningO"/>.</param>
    /// <param name="lse">The output log-sum-exp.</param>
    static abstract void Finalize(ReadOnlySpan<float> runningO, ReadOnlySpan<float> runningLse, Span<TElement> o, Span<float> lse);
}
