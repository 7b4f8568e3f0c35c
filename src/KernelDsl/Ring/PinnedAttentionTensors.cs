using System;
using KernelDsl.Cpu;

namespace KernelDsl.Ring;

/// <summary>The work of one step on pinned tensors: what the CPU attention step passes to <see cref="PinnedAttentionTensors{TElement}.Pin"/>.</summary>
/// <typeparam name="TElement">The operand element.</typeparam>
/// <param name="arguments">The step's arguments.</param>
/// <param name="tensors">The step's tensors, pinned until the body returns.</param>
public delegate void PinnedAttentionStep<TElement>(in AttentionStepArguments arguments, PinnedAttentionTensors<TElement> tensors)
    where TElement : unmanaged;

/// <summary>
/// The tensors of one CPU attention step, pinned, as views worker threads can hold: Q, K, V of the step and the
/// output state O, L it writes (the running state itself, or a partial to merge; see
/// <see cref="AttentionStepArguments.StateIsInitial"/>). Lets the step's worker threads read the caller's memory in
/// place rather than copy it into arrays.
/// </summary>
/// <typeparam name="TElement">The operand element.</typeparam>
public readonly struct PinnedAttentionTensors<TElement>
    where TElement : unmanaged
{
    private PinnedAttentionTensors(PinnedSpan<TElement> q, PinnedSpan<TElement> k, PinnedSpan<TElement> v, PinnedSpan<float> o, PinnedSpan<float> lse)
    {
        Q = q;
        K = k;
        V = v;
        O = o;
        Lse = lse;
    }

    /// <summary>Queries, [heads, Sq, d].</summary>
    public PinnedSpan<TElement> Q { get; }

    /// <summary>Keys, [kvHeads, Skv, d].</summary>
    public PinnedSpan<TElement> K { get; }

    /// <summary>Values, [kvHeads, Skv, d].</summary>
    public PinnedSpan<TElement> V { get; }

    /// <summary>Output O the step writes, fp32, [heads, Sq, d].</summary>
    public PinnedSpan<float> O { get; }

    /// <summary>Output log-sum-exp the step writes, [heads, Sq].</summary>
    public PinnedSpan<float> Lse { get; }

    /// <summary>Pins the five tensors for the duration of <paramref name="body"/>, which must not keep the views after it returns.</summary>
    /// <param name="arguments">Passed on to <paramref name="body"/>.</param>
    /// <param name="q">Queries.</param>
    /// <param name="k">Keys.</param>
    /// <param name="v">Values.</param>
    /// <param name="o">Output O.</param>
    /// <param name="lse">Output log-sum-exp.</param>
    /// <param name="body">The step.</param>
    public static unsafe void Pin(
        in AttentionStepArguments arguments,
        ReadOnlySpan<TElement> q,
        ReadOnlySpan<TElement> k,
        ReadOnlySpan<TElement> v,
        Span<float> o,
        Span<float> lse,
        PinnedAttentionStep<TElement> body)
    {
        ArgumentNullException.ThrowIfNull(body);
        fixed (TElement* qAddress = q, kAddress = k, vAddress = v)
        fixed (float* oAddress = o, lseAddress = lse)
        {
            body(in arguments, new PinnedAttentionTensors<TElement>(
                new PinnedSpan<TElement>(qAddress, q.Length),
                new PinnedSpan<TElement>(kAddress, k.Length),
                new PinnedSpan<TElement>(vAddress, v.Length),
                new PinnedSpan<float>(oAddress, o.Length),
                new PinnedSpan<float>(lseAddress, lse.Length)));
        }
    }
}
