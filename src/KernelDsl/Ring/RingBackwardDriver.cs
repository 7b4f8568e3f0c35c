using System;
using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using KernelDsl.Cpu;

namespace KernelDsl.Ring;

/// <summary>
/// The ring attention backward pass on the CPU: the gradients dQ, dK, dV of a loss with upstream gradient dO of the
/// forward's O, for every rank's shard, from that rank's Q, K, V, O, L and dO. K and V travel round the ring as in
/// the forward pass and the fp32 dK and dV accumulators travel with them, so that after the last step each rank
/// receives the full dK and dV of its own shard; each rank accumulates its own dQ.
/// </summary>
/// <remarks>
/// Schedule on rank r (the shard of step s came from rank (r − s) mod P, and rank r + 1 holds it at step s + 1):
/// D = rowsum(dO ∘ O) once; then one exchange per step that carries, to r + 1, the K/V of this step's shard (which
/// r + 1 needs next) and the completed fp32 dK/dV accumulator of the previous step's shard (which r + 1 holds now),
/// and brings from r − 1 the next shard's K/V and the accumulator of this step's shard so far. The step computes its
/// contribution into a fresh buffer meanwhile (with two buffers the exchange is started before the compute, with one
/// after it), then adds it to the accumulator that arrived: so both transfers overlap the compute, and each rank has
/// one exchange in flight at a time, as the communicators require. After step P − 1 the completed accumulator is rank
/// r + 1's own, and one last exchange hands every rank its own. All accumulation is fp32 and converted to the element
/// type once at the end: partial sums kept in 16 bits drift with the ring size.
/// </remarks>
public static class RingBackwardDriver
{
    /// <summary>
    /// The full ring backward pass on this rank. Every rank of the ring must call it with the same
    /// <paramref name="options"/>; <paramref name="o"/> and <paramref name="lse"/> are what the forward pass returned.
    /// </summary>
    /// <typeparam name="TElement">The operand and gradient element.</typeparam>
    /// <param name="communicator">This rank's view of the ring.</param>
    /// <param name="options">Shape, layout, mask, scale and buffers, as for the forward pass.</param>
    /// <param name="q">Local queries, [Heads, Sq, HeadDim].</param>
    /// <param name="k">Local keys, [KvHeads, Sq, HeadDim].</param>
    /// <param name="v">Local values, [KvHeads, Sq, HeadDim].</param>
    /// <param name="o">The forward output of the local queries, [Heads, Sq, HeadDim].</param>
    /// <param name="lse">The forward log-sum-exp (natural log), [Heads, Sq]; −∞ rows get zero gradients.</param>
    /// <param name="dO">Gradient of the loss with respect to O, [Heads, Sq, HeadDim].</param>
    /// <param name="dQ">Output: gradient with respect to q, [Heads, Sq, HeadDim].</param>
    /// <param name="dK">Output: gradient with respect to k, summed over the query heads of each K/V head, [KvHeads, Sq, HeadDim].</param>
    /// <param name="dV">Output: gradient with respect to v, likewise, [KvHeads, Sq, HeadDim].</param>
    /// <exception cref="ArgumentException">The options are invalid or a span's length does not match them.</exception>
    /// <exception cref="RingCommunicationException">The ring failed or timed out.</exception>
    /// <exception cref="RingConfigurationException">The rank before this one was given other options, another element type, or is running the forward pass.</exception>
    public static void Backward<TElement>(
        IRingCommunicator communicator, RingAttentionOptions options,
        ReadOnlySpan<TElement> q, ReadOnlySpan<TElement> k, ReadOnlySpan<TElement> v,
        ReadOnlySpan<TElement> o, ReadOnlySpan<float> lse, ReadOnlySpan<TElement> dO,
        Span<TElement> dQ, Span<TElement> dK, Span<TElement> dV)
        where TElement : unmanaged
    {
        ArgumentNullException.ThrowIfNull(communicator);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate(nameof(options));
        int ranks = communicator.Size, rank = communicator.Rank;
        var schedule = new RingSchedule(options.Layout, options.SequenceLength, ranks, rank, options.Causal);
        var shape = new BackwardShape(options, schedule.QueryShard.LocalLength, schedule.QueryShard.LocalLength);
        shape.Check(q, k, v, o, lse, dO, dQ, dK, dV);
        RingHandshake.Verify<TElement>(communicator, options, RingPass.Backward);

        int maxRows = SequenceShard.MaxLocalLength(options.Layout, options.SequenceLength, ranks);
        int maxGradients = checked(2 * options.ResolvedKvHeads * maxRows * options.HeadDim);
        int packetBytes = checked(maxGradients * (Unsafe.SizeOf<TElement>() + sizeof(float)));
        // Packets: [K/V of a shard (elements)][an fp32 dK/dV accumulator (floats)], see the remarks.
        byte[] current = ArrayPool<byte>.Shared.Rent(packetBytes);
        byte[] incoming = ArrayPool<byte>.Shared.Rent(packetBytes);
        float[] contribution = ArrayPool<float>.Shared.Rent(maxGradients);
        using var local = LocalTensors.Create(shape, q, o, lse, dO, maxGradients);
        int GradientCount(int step) => 2 * options.ResolvedKvHeads * schedule.KeyShard(step).LocalLength * options.HeadDim;
        int KvBytes(int step) => GradientCount(step) * Unsafe.SizeOf<TElement>();
        Span<float> Accumulator(byte[] packet, int offset, int count) => MemoryMarshal.Cast<byte, float>(packet.AsSpan(offset, count * sizeof(float)));
        try
        {
            MemoryMarshal.AsBytes(k).CopyTo(current);
            MemoryMarshal.AsBytes(v).CopyTo(current.AsSpan(k.Length * Unsafe.SizeOf<TElement>()));
            for (int step = 0; step < ranks; step++)
            {
                // `current` is [K/V of this step's shard][the completed accumulator of the last step's shard, from step 1 on].
                // Sent: the K/V on to r + 1 (not at the last step, nobody needs it) and the accumulator on to r + 1, which
                // holds that shard now. Received: the next shard's K/V and the accumulator of this step's shard so far.
                bool moreKv = step < ranks - 1, accumulated = step > 0;
                int sendOffset = moreKv ? 0 : KvBytes(step);
                int sendBytes = (moreKv ? KvBytes(step) : 0) + (accumulated ? GradientCount(step - 1) * sizeof(float) : 0);
                int receivedKv = moreKv ? KvBytes(step + 1) : 0;
                int receiveBytes = receivedKv + (accumulated ? GradientCount(step) * sizeof(float) : 0);
                bool exchange = ranks > 1;
                RingTransfer Exchange() => RingAttentionDriver.Exchange(communicator, current.AsMemory(sendOffset, sendBytes), incoming.AsMemory(0, receiveBytes), step);
                RingTransfer? transfer = exchange && options.Buffers == 2 ? Exchange() : null;

                var shard = schedule.KeyShard(step);
                int kvLength = GradientCount(step) / 2;
                var mine = contribution.AsSpan(0, 2 * kvLength);
                mine.Clear();
                var kv = MemoryMarshal.Cast<byte, TElement>(current.AsSpan(0, KvBytes(step)));
                local.Step(options, schedule.QueryShard, shard, kv[..kvLength], kv[kvLength..], mine[..kvLength], mine[kvLength..]);
                if (!exchange)
                {
                    break;  // one rank: its own contribution is all there is
                }

                transfer ??= Exchange();
                RingAttentionDriver.Wait(transfer, step);
                var accumulator = Accumulator(incoming, receivedKv, 2 * kvLength);
                if (accumulated)
                {
                    CpuScaledAdd.Add(accumulator, mine, 1);
                }
                else
                {
                    mine.CopyTo(accumulator);
                }
                (current, incoming) = (incoming, current);
            }

            Span<float> own;
            if (ranks > 1)
            {
                // The accumulator of the last step's shard is complete: rank r + 1's own. Hand it over and take ours.
                int lastBytes = GradientCount(ranks - 1) * sizeof(float);
                var handOver = RingAttentionDriver.Exchange(communicator, current.AsMemory(0, lastBytes), incoming.AsMemory(0, 2 * shape.KvLength * sizeof(float)), ranks - 1);
                RingAttentionDriver.Wait(handOver, ranks - 1);
                own = Accumulator(incoming, 0, 2 * shape.KvLength);
            }
            else
            {
                own = contribution.AsSpan(0, 2 * shape.KvLength);
            }
            CpuConvert.FromSingle(local.DQ, dQ);
            CpuConvert.FromSingle(own[..shape.KvLength], dK);
            CpuConvert.FromSingle(own[shape.KvLength..], dV);
        }
        catch (Exception exception) when (exception is not RingCommunicationException)
        {
            communicator.Fail(exception);
            throw;
        }

        // Returned only on success, as in the forward pass: after a failed wait a transfer may still use them.
        ArrayPool<byte>.Shared.Return(current);
        ArrayPool<byte>.Shared.Return(incoming);
        ArrayPool<float>.Shared.Return(contribution);
    }

    /// <summary>
    /// The attention backward pass on one device, without a ring: the gradients of O = softmax(scale·Q·Kᵀ [+ mask])·V
    /// over the whole sequence in its natural order (<see cref="RingAttentionOptions.Layout"/> and
    /// <see cref="RingAttentionOptions.Buffers"/> are not used). Arguments as for <see cref="Backward"/>, with S rows.
    /// </summary>
    /// <exception cref="ArgumentException">The options are invalid or a span's length does not match them.</exception>
    public static void AttentionBackward<TElement>(
        RingAttentionOptions options,
        ReadOnlySpan<TElement> q, ReadOnlySpan<TElement> k, ReadOnlySpan<TElement> v,
        ReadOnlySpan<TElement> o, ReadOnlySpan<float> lse, ReadOnlySpan<TElement> dO,
        Span<TElement> dQ, Span<TElement> dK, Span<TElement> dV)
        where TElement : unmanaged
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate(nameof(options));
        var shard = SequenceShard.For(RingLayout.Contiguous, options.SequenceLength, 1, 0);
        var shape = new BackwardShape(options, shard.LocalLength, shard.LocalLength);
        shape.Check(q, k, v, o, lse, dO, dQ, dK, dV);
        if (typeof(TElement) == typeof(float))
        {
            // fp32 tensors need no widening and the gradients no rounding: the step reads the inputs in place and adds
            // into the outputs, zeroed first.
            float[] delta = Rent(shape.Rows);
            try
            {
                BackwardDelta(o, dO, shape.HeadDim, delta.AsSpan(0, shape.Rows));
                Span<float> dQf = MemoryMarshal.Cast<TElement, float>(dQ), dKf = MemoryMarshal.Cast<TElement, float>(dK), dVf = MemoryMarshal.Cast<TElement, float>(dV);
                dQf.Clear();
                dKf.Clear();
                dVf.Clear();
                CpuAttentionBackward.Step(StepArguments(options, shard, shard),
                    MemoryMarshal.Cast<TElement, float>(q), MemoryMarshal.Cast<TElement, float>(k), MemoryMarshal.Cast<TElement, float>(v),
                    MemoryMarshal.Cast<TElement, float>(dO), lse, delta.AsSpan(0, shape.Rows), dQf, dKf, dVf);
            }
            finally
            {
                ArrayPool<float>.Shared.Return(delta);
            }
            return;
        }
        using var local = LocalTensors.Create(shape, q, o, lse, dO, shape.KvLength);
        float[] grads = ArrayPool<float>.Shared.Rent(2 * shape.KvLength);
        try
        {
            var g = grads.AsSpan(0, 2 * shape.KvLength);
            g.Clear();
            local.Step(options, shard, shard, k, v, g[..shape.KvLength], g[shape.KvLength..]);
            CpuConvert.FromSingle(local.DQ, dQ);
            CpuConvert.FromSingle(g[..shape.KvLength], dK);
            CpuConvert.FromSingle(g[shape.KvLength..], dV);
        }
        finally
        {
            ArrayPool<float>.Shared.Return(grads);
        }
    }

    /// <summary>
    /// D = rowsum(dO ∘ O) of every query row, which <see cref="BackwardStep"/> needs: once per rank, before its steps.
    /// </summary>
    /// <param name="o">The forward output, [Heads, Sq, HeadDim].</param>
    /// <param name="dO">Its upstream gradient, the same shape.</param>
    /// <param name="headDim">HeadDim, the row length.</param>
    /// <param name="delta">Output, [Heads, Sq].</param>
    /// <exception cref="ArgumentException">The lengths do not match.</exception>
    public static void BackwardDelta<TElement>(ReadOnlySpan<TElement> o, ReadOnlySpan<TElement> dO, int headDim, Span<float> delta)
        where TElement : unmanaged
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(headDim);
        if (o.Length != dO.Length || o.Length != (long)delta.Length * headDim)
        {
            throw new ArgumentException($"o and dO must both hold delta.Length × {headDim} values; they hold {o.Length} and {dO.Length}.", nameof(dO));
        }
        ref readonly TElement o0 = ref MemoryMarshal.GetReference(o), dO0 = ref MemoryMarshal.GetReference(dO);
        int vectorEnd = headDim - headDim % Vector256<float>.Count;
        for (int row = 0; row < delta.Length; row++)
        {
            nuint first = (nuint)row * (nuint)headDim;
            var sums = Vector256<float>.Zero;
            for (int c = 0; c < vectorEnd; c += Vector256<float>.Count)
            {
                sums += CpuConvert.LoadVector256(in o0, first + (nuint)c) * CpuConvert.LoadVector256(in dO0, first + (nuint)c);
            }
            float sum = Vector256.Sum(sums);
            for (int c = vectorEnd; c < headDim; c++)
            {
                sum += CpuConvert.ToSingle(o[row * headDim + c]) * CpuConvert.ToSingle(dO[row * headDim + c]);
            }
            delta[row] = sum;
        }
    }

    /// <summary>
    /// One backward step for callers that drive their own schedule: adds the gradient contributions of the queries of
    /// <paramref name="rank"/> against the K/V shard of <paramref name="sourceRank"/> into fp32 accumulators — dQ of
    /// the rank's queries, dK and dV of the source shard. Start the accumulators at zero, call this once per shard
    /// (any order: the sums are the same, up to rounding), convert with <see cref="FinalizeGradient"/>. A shard with no
    /// visible key adds nothing.
    /// </summary>
    /// <param name="options">Shape, layout, mask and scale (<see cref="RingAttentionOptions.Buffers"/> is not used).</param>
    /// <param name="ranks">Number of ranks P.</param>
    /// <param name="rank">The rank whose queries these are.</param>
    /// <param name="sourceRank">The rank whose K/V shard <paramref name="k"/>, <paramref name="v"/> are.</param>
    /// <param name="q">Queries of <paramref name="rank"/>, [Heads, Sq, HeadDim].</param>
    /// <param name="k">Keys of <paramref name="sourceRank"/>, [KvHeads, Skv, HeadDim].</param>
    /// <param name="v">Values of <paramref name="sourceRank"/>, [KvHeads, Skv, HeadDim].</param>
    /// <param name="dO">Upstream gradient of the rank's forward output, [Heads, Sq, HeadDim].</param>
    /// <param name="lse">The rank's forward log-sum-exp, [Heads, Sq].</param>
    /// <param name="delta">The rank's <see cref="BackwardDelta"/>, [Heads, Sq].</param>
    /// <param name="dQ">fp32 accumulator of the rank's dQ, [Heads, Sq, HeadDim].</param>
    /// <param name="dK">fp32 accumulator of the source shard's dK, [KvHeads, Skv, HeadDim].</param>
    /// <param name="dV">fp32 accumulator of the source shard's dV, [KvHeads, Skv, HeadDim].</param>
    /// <exception cref="ArgumentException">The options are invalid or a span's length does not match them.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A rank is out of range.</exception>
    public static void BackwardStep<TElement>(
        RingAttentionOptions options, int ranks, int rank, int sourceRank,
        ReadOnlySpan<TElement> q, ReadOnlySpan<TElement> k, ReadOnlySpan<TElement> v, ReadOnlySpan<TElement> dO,
        ReadOnlySpan<float> lse, ReadOnlySpan<float> delta, Span<float> dQ, Span<float> dK, Span<float> dV)
        where TElement : unmanaged
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate(nameof(options));
        var queries = SequenceShard.For(options.Layout, options.SequenceLength, ranks, rank);
        var keys = SequenceShard.For(options.Layout, options.SequenceLength, ranks, sourceRank);
        var queryShape = new BackwardShape(options, queries.LocalLength, keys.LocalLength);
        RingAttentionDriver.ExpectLength(q.Length, queryShape.QLength, nameof(q));
        RingAttentionDriver.ExpectLength(dO.Length, queryShape.QLength, nameof(dO));
        RingAttentionDriver.ExpectLength(dQ.Length, queryShape.QLength, nameof(dQ));
        RingAttentionDriver.ExpectLength(lse.Length, queryShape.Rows, nameof(lse));
        RingAttentionDriver.ExpectLength(delta.Length, queryShape.Rows, nameof(delta));
        RingAttentionDriver.ExpectLength(k.Length, queryShape.KvLength, nameof(k));
        RingAttentionDriver.ExpectLength(v.Length, queryShape.KvLength, nameof(v));
        RingAttentionDriver.ExpectLength(dK.Length, queryShape.KvLength, nameof(dK));
        RingAttentionDriver.ExpectLength(dV.Length, queryShape.KvLength, nameof(dV));
        if (!RingSchedule.HasVisibleKeys(queries, keys, options.Causal))
        {
            return;  // before widening anything
        }
        float[][] widened = [Rent(q.Length), Rent(dO.Length), Rent(k.Length), Rent(v.Length)];
        try
        {
            var qf = widened[0].AsSpan(0, q.Length);
            var dOf = widened[1].AsSpan(0, dO.Length);
            CpuConvert.ToSingle(q, qf);
            CpuConvert.ToSingle(dO, dOf);
            AddStep(options, queries, keys, qf, k, v, dOf, lse, delta, dQ, dK, dV, widened[2], widened[3]);
        }
        finally
        {
            foreach (float[] array in widened)
            {
                ArrayPool<float>.Shared.Return(array);
            }
        }
    }

    /// <summary>
    /// The step both <see cref="BackwardStep"/> and the ring run: K and V widened into the scratch arrays, then the
    /// block kernel adds into dQ, dK and dV; a shard with no visible key adds nothing.
    /// </summary>
    private static void AddStep<TElement>(
        RingAttentionOptions options, SequenceShard queries, SequenceShard keys,
        ReadOnlySpan<float> q, ReadOnlySpan<TElement> k, ReadOnlySpan<TElement> v, ReadOnlySpan<float> dO, ReadOnlySpan<float> lse, ReadOnlySpan<float> delta,
        Span<float> dQ, Span<float> dK, Span<float> dV, float[] kScratch, float[] vScratch)
        where TElement : unmanaged
    {
        if (!RingSchedule.HasVisibleKeys(queries, keys, options.Causal))
        {
            return;
        }
        CpuAttentionBackward.Step(StepArguments(options, queries, keys), q, Widened(k, kScratch), Widened(v, vScratch), dO, lse, delta, dQ, dK, dV);
    }

    private static AttentionStepArguments StepArguments(RingAttentionOptions options, SequenceShard queries, SequenceShard keys) => new(
        options.Heads, options.ResolvedKvHeads, options.HeadDim, options.ResolvedScale, options.Causal, queries, keys, stateIsInitial: false);

    /// <summary>The values as floats: fp32 tensors in place, 16-bit ones widened into <paramref name="scratch"/>.</summary>
    private static ReadOnlySpan<float> Widened<TElement>(ReadOnlySpan<TElement> values, float[] scratch)
        where TElement : unmanaged
    {
        if (typeof(TElement) == typeof(float))
        {
            return MemoryMarshal.Cast<TElement, float>(values);
        }
        var widened = scratch.AsSpan(0, values.Length);
        CpuConvert.ToSingle(values, widened);
        return widened;
    }

    /// <summary>Writes an fp32 gradient accumulator out in the element type (round to nearest even), once, at the end.</summary>
    /// <exception cref="ArgumentException">The lengths differ.</exception>
    public static void FinalizeGradient<TElement>(ReadOnlySpan<float> accumulator, Span<TElement> gradient)
        where TElement : unmanaged
    {
        RingAttentionDriver.ExpectLength(gradient.Length, accumulator.Length, nameof(gradient));
        CpuConvert.FromSingle(accumulator, gradient);
    }

    private static float[] Rent(int length) => ArrayPool<float>.Shared.Rent(Math.Max(length, 1));

    /// <summary>The lengths a rank's tensors must have.</summary>
    private readonly struct BackwardShape(RingAttentionOptions options, int queryRows, int keyRows)
    {
        public int QLength { get; } = checked(options.Heads * queryRows * options.HeadDim);

        public int KvLength { get; } = checked(options.ResolvedKvHeads * keyRows * options.HeadDim);

        public int Rows { get; } = options.Heads * queryRows;

        public int HeadDim { get; } = options.HeadDim;

        public void Check<TElement>(
            ReadOnlySpan<TElement> q, ReadOnlySpan<TElement> k, ReadOnlySpan<TElement> v, ReadOnlySpan<TElement> o, ReadOnlySpan<float> lse,
            ReadOnlySpan<TElement> dO, Span<TElement> dQ, Span<TElement> dK, Span<TElement> dV)
            where TElement : unmanaged
        {
            RingAttentionDriver.ExpectLength(q.Length, QLength, nameof(q));
            RingAttentionDriver.ExpectLength(k.Length, KvLength, nameof(k));
            RingAttentionDriver.ExpectLength(v.Length, KvLength, nameof(v));
            RingAttentionDriver.ExpectLength(o.Length, QLength, nameof(o));
            RingAttentionDriver.ExpectLength(lse.Length, Rows, nameof(lse));
            RingAttentionDriver.ExpectLength(dO.Length, QLength, nameof(dO));
            RingAttentionDriver.ExpectLength(dQ.Length, QLength, nameof(dQ));
            RingAttentionDriver.ExpectLength(dK.Length, KvLength, nameof(dK));
            RingAttentionDriver.ExpectLength(dV.Length, KvLength, nameof(dV));
        }

    }

    /// <summary>
    /// What a rank keeps through the pass in fp32: its Q and dO widened, the forward's L, D = rowsum(dO ∘ O) and the
    /// dQ accumulator; K and V of each step are widened into scratch of the longest shard.
    /// </summary>
    private sealed class LocalTensors : IDisposable
    {
        private readonly float[] q, dO, lse, delta, dQ, k, v;
        private readonly int qLength, rows;

        public LocalTensors(in BackwardShape shape, ReadOnlySpan<float> lse, int maxKvLength)
        {
            qLength = shape.QLength;
            rows = shape.Rows;
            q = Rent(qLength);
            dO = Rent(qLength);
            dQ = Rent(qLength);
            this.lse = Rent(rows);
            delta = Rent(rows);
            k = Rent(maxKvLength);
            v = Rent(maxKvLength);
            lse.CopyTo(this.lse);
            Array.Clear(dQ, 0, qLength);
        }

        public Span<float> DQ => dQ.AsSpan(0, qLength);

        public static LocalTensors Create<TElement>(in BackwardShape shape, ReadOnlySpan<TElement> q, ReadOnlySpan<TElement> o, ReadOnlySpan<float> lse, ReadOnlySpan<TElement> dO, int maxKvLength)
            where TElement : unmanaged
        {
            var local = new LocalTensors(shape, lse, maxKvLength);
            CpuConvert.ToSingle(q, local.q);
            CpuConvert.ToSingle(dO, local.dO);
            BackwardDelta(o, dO, shape.HeadDim, local.delta.AsSpan(0, shape.Rows));
            return local;
        }

        /// <summary>One step against a K/V shard: adds into dQ and the shard's dK, dV.</summary>
        public void Step<TElement>(RingAttentionOptions options, SequenceShard queries, SequenceShard keys, ReadOnlySpan<TElement> kIn, ReadOnlySpan<TElement> vIn, Span<float> dK, Span<float> dV)
            where TElement : unmanaged
            => AddStep(options, queries, keys, q.AsSpan(0, qLength), kIn, vIn, dO.AsSpan(0, qLength), lse.AsSpan(0, rows), delta.AsSpan(0, rows), DQ, dK, dV, k, v);

        public void Dispose()
        {
            foreach (float[] array in new[] { q, dO, lse, delta, dQ, k, v })
            {
                ArrayPool<float>.Shared.Return(array);
            }
        }
    }
}
