using System;
using System.Buffers;
using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace KernelDsl.Ring;

/// <summary>
/// Ring attention: every rank keeps its query shard, the K/V shards travel round the ring
/// (rank → rank + 1), and each rank merges the attention over every shard into an exact running
/// (O, L), so that after P steps every rank holds full attention over the whole sequence for its queries.
/// </summary>
/// <remarks>
/// Before the steps, ranks exchange a small header describing the pass (see the
/// <see cref="RingConfigurationException"/>), so that ranks given different options stop before computing.
/// Schedule of <see cref="Forward"/> on rank r, for step s = 0 … P−1 (the shard of step s came from
/// rank (r − s) mod P): with two buffers, start the exchange (send the current buffer to r + 1, receive
/// the next shard from r − 1 into the spare) before computing, compute step s on the current buffer,
/// wait, swap; the last step has nothing to exchange. With one buffer the exchange starts after the
/// compute and is waited on at once. A buffer holds K then V, each [kvHeads, Skv, d] for the shard it
/// carries; shards differ in length when P does not divide S, so buffers are sized for the longest
/// and each transfer moves exactly the bytes of its shard (both ends know its length from its rank).
/// </remarks>
public static class RingAttentionDriver
{
    /// <summary>
    /// The full ring forward pass on this rank: attention of the local queries over the whole sequence.
    /// Every rank of the ring must call it with the same <paramref name="options"/>.
    /// </summary>
    /// <typeparam name="TKernel">The block kernel: one of <see cref="CpuRingAttention"/>'s, or a test's reference kernel.</typeparam>
    /// <typeparam name="TElement">The operand and output element.</typeparam>
    /// <param name="communicator">This rank's view of the ring.</param>
    /// <param name="options">Shape, layout, mask, scale and buffers.</param>
    /// <param name="q">Local queries, [Heads, Sq, HeadDim], Sq the local length of this rank's shard.</param>
    /// <param name="k">Local keys, [KvHeads, Sq, HeadDim].</param>
    /// <param name="v">Local values, [KvHeads, Sq, HeadDim].</param>
    /// <param name="o">Output, [Heads, Sq, HeadDim].</param>
    /// <param name="lse">Output log-sum-exp (natural log), [Heads, Sq]; −∞ for a row that sees no key.</param>
    /// <returns>This rank's compute and communication time per step.</returns>
    /// <exception cref="ArgumentException">The options are invalid or a span's length does not match them.</exception>
    /// <exception cref="RingCommunicationException">The ring failed or timed out.</exception>
    /// <exception cref="RingConfigurationException">
    /// The rank before this one was given other options or another element type (found by the handshake
    /// that opens the pass, before any K/V exchange; the ring is failed for every rank).
    /// </exception>
    /// <remarks>
    /// Any other exception during the schedule (from the kernel, say) first fails the ring through
    /// <see cref="IRingCommunicator.Fail"/>, so that the other ranks stop at once, then propagates.
    /// </remarks>
    public static RingAttentionTimings Forward<TKernel, TElement>(
        IRingCommunicator communicator,
        RingAttentionOptions options,
        ReadOnlySpan<TElement> q,
        ReadOnlySpan<TElement> k,
        ReadOnlySpan<TElement> v,
        Span<TElement> o,
        Span<float> lse)
        where TKernel : IAttentionBlockKernel<TElement>
        where TElement : unmanaged
    {
        long start = Stopwatch.GetTimestamp();
        ArgumentNullException.ThrowIfNull(communicator);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate(nameof(options));
        int ranks = communicator.Size;
        int rank = communicator.Rank;
        var schedule = new RingSchedule(options.Layout, options.SequenceLength, ranks, rank, options.Causal);
        int kvHeads = options.ResolvedKvHeads;
        int headDim = options.HeadDim;
        int rows = schedule.QueryShard.LocalLength;
        ExpectLength(q.Length, (long)options.Heads * rows * headDim, nameof(q));
        ExpectLength(k.Length, (long)kvHeads * rows * headDim, nameof(k));
        ExpectLength(v.Length, (long)kvHeads * rows * headDim, nameof(v));
        ExpectLength(o.Length, (long)options.Heads * rows * headDim, nameof(o));
        ExpectLength(lse.Length, (long)options.Heads * rows, nameof(lse));
        RingHandshake.Verify<TElement>(communicator, options);
        long handshook = Stopwatch.GetTimestamp();

        int maxRows = SequenceShard.MaxLocalLength(options.Layout, options.SequenceLength, ranks);
        int bufferBytes = ShardBytes<TElement>(kvHeads, maxRows, headDim);
        byte[] current = ArrayPool<byte>.Shared.Rent(bufferBytes);
        byte[] spare = ArrayPool<byte>.Shared.Rent(bufferBytes);
        float[] runningO = ArrayPool<float>.Shared.Rent(o.Length);
        float[] runningLse = ArrayPool<float>.Shared.Rent(lse.Length);
        var steps = new RingStepTiming[ranks];
        try
        {
            var stateO = runningO.AsSpan(0, o.Length);
            var stateLse = runningLse.AsSpan(0, lse.Length);
            InitializeState(stateO, stateLse);
            MemoryMarshal.AsBytes(k).CopyTo(current);
            MemoryMarshal.AsBytes(v).CopyTo(current.AsSpan(k.Length * Unsafe.SizeOf<TElement>()));

            try
            {
                RunSchedule<TKernel, TElement>(communicator, options, schedule, q, stateO, stateLse, current, spare, steps);
            }
            catch (Exception exception) when (exception is not RingCommunicationException)
            {
                // This rank cannot go on (its kernel threw, say): abort the ring so that the other ranks
                // fail now instead of waiting out the timeout for exchanges that will never come.
                communicator.Fail(exception);
                throw;
            }
            Finalize<TKernel, TElement>(stateO, stateLse, o, lse);
        }
        finally
        {
            ArrayPool<float>.Shared.Return(runningO);
            ArrayPool<float>.Shared.Return(runningLse);
        }
        // Returned only on success: after a failed wait a transfer may still be copying into or out
        // of these buffers, so they are left to the garbage collector rather than handed to another renter.
        ArrayPool<byte>.Shared.Return(current);
        ArrayPool<byte>.Shared.Return(spare);
        return new RingAttentionTimings(steps, Stopwatch.GetElapsedTime(handshook), Stopwatch.GetElapsedTime(start, handshook));
    }

    /// <summary>The P steps of <see cref="Forward"/> (see the remarks on <see cref="RingAttentionDriver"/>), timing each into <paramref name="steps"/>.</summary>
    private static void RunSchedule<TKernel, TElement>(
        IRingCommunicator communicator,
        RingAttentionOptions options,
        RingSchedule schedule,
        ReadOnlySpan<TElement> q,
        Span<float> runningO,
        Span<float> runningLse,
        byte[] current,
        byte[] spare,
        RingStepTiming[] steps)
        where TKernel : IAttentionBlockKernel<TElement>
        where TElement : unmanaged
    {
        int ranks = schedule.Ranks;
        int kvHeads = options.ResolvedKvHeads;
        int headDim = options.HeadDim;
        for (int step = 0; step < ranks; step++)
        {
            var shard = schedule.KeyShard(step);
            bool exchange = step < ranks - 1;
            RingTransfer? transfer = null;
            long posted = Stopwatch.GetTimestamp();
            if (exchange && options.Buffers == 2)
            {
                transfer = StartExchange<TElement>(communicator, schedule, step, kvHeads, headDim, current, spare);
            }
            long computeStart = Stopwatch.GetTimestamp();

            var kv = MemoryMarshal.Cast<byte, TElement>(current.AsSpan(0, ShardBytes<TElement>(kvHeads, shard.LocalLength, headDim)));
            int half = kv.Length / 2;
            // Step 0 finds the state as InitializeState left it.
            Step<TKernel, TElement>(options, ranks, schedule.Rank, shard.Rank, q, kv[..half], kv[half..], runningO, runningLse, stateIsInitial: step == 0);

            long computeEnd = Stopwatch.GetTimestamp();
            if (exchange)
            {
                transfer ??= StartExchange<TElement>(communicator, schedule, step, kvHeads, headDim, current, spare);
                Wait(transfer, step);
                (current, spare) = (spare, current);
            }
            long waited = Stopwatch.GetTimestamp();
            steps[step] = new RingStepTiming(
                step,
                shard.Rank,
                Stopwatch.GetElapsedTime(computeStart, computeEnd),
                Stopwatch.GetElapsedTime(posted, computeStart) + Stopwatch.GetElapsedTime(computeEnd, waited));
        }
    }

    /// <summary>
    /// One step for callers that drive their own schedule: attends the local queries of
    /// <paramref name="rank"/> to the K/V shard of <paramref name="sourceRank"/> and merges the result into the
    /// caller's running state (start it with <see cref="InitializeState"/>, end with <see cref="Finalize"/>).
    /// A shard with no visible key leaves the state unchanged without calling the kernel.
    /// </summary>
    /// <typeparam name="TKernel">The block kernel: one of <see cref="CpuRingAttention"/>'s, or a test's reference kernel.</typeparam>
    /// <typeparam name="TElement">The operand element.</typeparam>
    /// <param name="options">Shape, layout, mask and scale (<see cref="RingAttentionOptions.Buffers"/> is not used).</param>
    /// <param name="ranks">Number of ranks P the sequence is split over.</param>
    /// <param name="rank">The rank whose queries these are.</param>
    /// <param name="sourceRank">The rank whose K/V shard <paramref name="k"/>, <paramref name="v"/> are.</param>
    /// <param name="q">Queries of <paramref name="rank"/>, [Heads, Sq, HeadDim].</param>
    /// <param name="k">Keys of <paramref name="sourceRank"/>, [KvHeads, Skv, HeadDim].</param>
    /// <param name="v">Values of <paramref name="sourceRank"/>, [KvHeads, Skv, HeadDim].</param>
    /// <param name="runningO">Running normalised output, [Heads, Sq, HeadDim], updated in place.</param>
    /// <param name="runningLse">Running log-sum-exp, [Heads, Sq], updated in place.</param>
    /// <exception cref="ArgumentException">The options are invalid or a span's length does not match them.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A rank is out of range.</exception>
    public static void ForwardStep<TKernel, TElement>(
        RingAttentionOptions options,
        int ranks,
        int rank,
        int sourceRank,
        ReadOnlySpan<TElement> q,
        ReadOnlySpan<TElement> k,
        ReadOnlySpan<TElement> v,
        Span<float> runningO,
        Span<float> runningLse)
        where TKernel : IAttentionBlockKernel<TElement>
        where TElement : unmanaged
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate(nameof(options));
        Step<TKernel, TElement>(options, ranks, rank, sourceRank, q, k, v, runningO, runningLse, stateIsInitial: false);
    }

    /// <summary>
    /// Attention on one device, without a ring: O = softmax(scale·Q·Kᵀ [+ mask])·V over the whole sequence in its
    /// natural order (a ring of one rank, whatever <see cref="RingAttentionOptions.Layout"/> says). One step into a
    /// fresh state; an fp32 <paramref name="o"/> is that state itself, so nothing is copied.
    /// </summary>
    /// <typeparam name="TKernel">The block kernel: one of <see cref="CpuRingAttention"/>'s, or a test's reference kernel.</typeparam>
    /// <typeparam name="TElement">The operand and output element.</typeparam>
    /// <param name="options">Shape, mask and scale (<see cref="RingAttentionOptions.Buffers"/> is not used).</param>
    /// <param name="q">Queries, [Heads, S, HeadDim].</param>
    /// <param name="k">Keys, [KvHeads, S, HeadDim].</param>
    /// <param name="v">Values, [KvHeads, S, HeadDim].</param>
    /// <param name="o">Output, [Heads, S, HeadDim]; 0 for a query that sees no key.</param>
    /// <param name="lse">Output log-sum-exp (natural log), [Heads, S]; −∞ for a query that sees no key.</param>
    /// <exception cref="ArgumentException">The options are invalid or a span's length does not match them.</exception>
    public static void Attention<TKernel, TElement>(
        RingAttentionOptions options,
        ReadOnlySpan<TElement> q,
        ReadOnlySpan<TElement> k,
        ReadOnlySpan<TElement> v,
        Span<TElement> o,
        Span<float> lse)
        where TKernel : IAttentionBlockKernel<TElement>
        where TElement : unmanaged
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate(nameof(options));
        ExpectLength(o.Length, (long)options.Heads * options.SequenceLength * options.HeadDim, nameof(o));
        ExpectLength(lse.Length, (long)options.Heads * options.SequenceLength, nameof(lse));
        if (typeof(TElement) == typeof(float))
        {
            var state = MemoryMarshal.Cast<TElement, float>(o);
            InitializeState(state, lse);
            Step<TKernel, TElement>(options, 1, 0, 0, q, k, v, state, lse, stateIsInitial: true);
            return;
        }
        float[] runningO = ArrayPool<float>.Shared.Rent(o.Length);
        try
        {
            var stateO = runningO.AsSpan(0, o.Length);
            InitializeState(stateO, lse);
            Step<TKernel, TElement>(options, 1, 0, 0, q, k, v, stateO, lse, stateIsInitial: true);
            TKernel.Finalize(stateO, lse, o, lse);
        }
        finally
        {
            ArrayPool<float>.Shared.Return(runningO);
        }
    }

    /// <summary><see cref="ForwardStep"/> on validated options; <paramref name="stateIsInitial"/> when the caller knows the state is fresh.</summary>
    private static void Step<TKernel, TElement>(
        RingAttentionOptions options,
        int ranks,
        int rank,
        int sourceRank,
        ReadOnlySpan<TElement> q,
        ReadOnlySpan<TElement> k,
        ReadOnlySpan<TElement> v,
        Span<float> runningO,
        Span<float> runningLse,
        bool stateIsInitial)
        where TKernel : IAttentionBlockKernel<TElement>
        where TElement : unmanaged
    {
        var queryShard = SequenceShard.For(options.Layout, options.SequenceLength, ranks, rank);
        var keyShard = SequenceShard.For(options.Layout, options.SequenceLength, ranks, sourceRank);
        int kvHeads = options.ResolvedKvHeads;
        int headDim = options.HeadDim;
        ExpectLength(q.Length, (long)options.Heads * queryShard.LocalLength * headDim, nameof(q));
        ExpectLength(k.Length, (long)kvHeads * keyShard.LocalLength * headDim, nameof(k));
        ExpectLength(v.Length, (long)kvHeads * keyShard.LocalLength * headDim, nameof(v));
        ExpectLength(runningO.Length, (long)options.Heads * queryShard.LocalLength * headDim, nameof(runningO));
        ExpectLength(runningLse.Length, (long)options.Heads * queryShard.LocalLength, nameof(runningLse));
        if (!RingSchedule.HasVisibleKeys(queryShard, keyShard, options.Causal))
        {
            return;
        }
        var arguments = new AttentionStepArguments(
            options.Heads, kvHeads, headDim, options.ResolvedScale, options.Causal, queryShard, keyShard, stateIsInitial);
        TKernel.Step(in arguments, q, k, v, runningO, runningLse);
    }

    /// <summary>Sets a running state to "no key seen yet": O = 0, L = −∞, the identity of the merge.</summary>
    /// <param name="runningO">Running output to clear.</param>
    /// <param name="runningLse">Running log-sum-exp to set to −∞.</param>
    public static void InitializeState(Span<float> runningO, Span<float> runningLse)
    {
        runningO.Clear();
        runningLse.Fill(float.NegativeInfinity);
    }

    /// <summary>Writes a running state out as the kernel's output element and a float log-sum-exp.</summary>
    /// <typeparam name="TKernel">The block kernel: one of <see cref="CpuRingAttention"/>'s, or a test's reference kernel.</typeparam>
    /// <typeparam name="TElement">The output element.</typeparam>
    /// <param name="runningO">The running output after the last step.</param>
    /// <param name="runningLse">The running log-sum-exp after the last step.</param>
    /// <param name="o">The output, as long as <paramref name="runningO"/>.</param>
    /// <param name="lse">The output log-sum-exp, as long as <paramref name="runningLse"/>.</param>
    /// <exception cref="ArgumentException">The lengths differ.</exception>
    public static void Finalize<TKernel, TElement>(ReadOnlySpan<float> runningO, ReadOnlySpan<float> runningLse, Span<TElement> o, Span<float> lse)
        where TKernel : IAttentionBlockKernel<TElement>
        where TElement : unmanaged
    {
        ExpectLength(o.Length, runningO.Length, nameof(o));
        ExpectLength(lse.Length, runningLse.Length, nameof(lse));
        TKernel.Finalize(runningO, runningLse, o, lse);
    }

    /// <summary>Sends the shard of <paramref name="step"/> from <paramref name="current"/> and receives that of step + 1 into <paramref name="spare"/>.</summary>
    private static RingTransfer StartExchange<TElement>(
        IRingCommunicator communicator, RingSchedule schedule, int step, int kvHeads, int headDim, byte[] current, byte[] spare)
        where TElement : unmanaged
    {
        int sendBytes = ShardBytes<TElement>(kvHeads, schedule.KeyShard(step).LocalLength, headDim);
        int receiveBytes = ShardBytes<TElement>(kvHeads, schedule.KeyShard(step + 1).LocalLength, headDim);
        return Exchange(communicator, current.AsMemory(0, sendBytes), spare.AsMemory(0, receiveBytes), step);
    }

    /// <summary>Starts an exchange of <paramref name="step"/>; a failure is told which step it broke (transports count exchanges, not steps).</summary>
    internal static RingTransfer Exchange(IRingCommunicator communicator, ReadOnlyMemory<byte> send, Memory<byte> receive, int step)
    {
        try
        {
            return communicator.StartExchange(send, receive);
        }
        catch (RingCommunicationException failure)
        {
            failure.Step ??= step;
            throw;
        }
    }

    /// <summary>Waits for the exchange of <paramref name="step"/>; a failure is told which step it broke.</summary>
    internal static void Wait(RingTransfer transfer, int step)
    {
        try
        {
            transfer.Wait();
        }
        catch (RingCommunicationException failure)
        {
            failure.Step ??= step;
            throw;
        }
    }

    /// <summary>Bytes of one K/V buffer: K and V, each [kvHeads, rows, headDim].</summary>
    private static int ShardBytes<TElement>(int kvHeads, int rows, int headDim)
        where TElement : unmanaged =>
        checked(2 * kvHeads * rows * headDim * Unsafe.SizeOf<TElement>());

    /// <summary>Throws an <see cref="ArgumentException"/> naming <paramref name="parameterName"/> when a span's length is not the expected one.</summary>
    internal static void ExpectLength(int actual, long expected, string parameterName)
    {
        if (actual != expected)
        {
            throw new ArgumentException($"Expected {expected} elements, got {actual}.", parameterName);
        }
    }
}
