using System;
using System.Globalization;
using KernelDsl.Ring;
using Xunit;

namespace KernelDsl.Tests.Ring;

/// <summary>
/// One end-to-end check of the ring: fresh random Q, K, V over the whole sequence (seed derived from the
/// case), each rank given its shard, P ranks run concurrently on an <see cref="InProcessRing"/>, outputs
/// poisoned with NaN beforehand, and every rank's O and L compared with single-device float64 attention
/// at the global positions its rows hold.
/// </summary>
internal sealed record RingCase(int Ranks, int SequenceLength, int HeadDim, bool Causal, RingLayout Layout)
{
    public int Heads { get; init; } = 2;
    public int KvHeads { get; init; } = 2;
    public int Buffers { get; init; } = 2;

    /// <summary>Multiplies Q: logits have a standard deviation of about InputScale / 3.</summary>
    public float InputScale { get; init; } = 1f;

    public string Case => string.Create(CultureInfo.InvariantCulture,
        $"P={Ranks} S={SequenceLength} d={HeadDim} heads={Heads}/{KvHeads} {(Causal ? "causal " + Layout : "non-causal " + Layout)} buffers={Buffers} q×{InputScale}");

    /// <summary>A stable seed per case (FNV-1a of <see cref="Case"/>; string.GetHashCode is randomised per process).</summary>
    public int Seed => StableSeed.Of(Case);

    public override string ToString() => Case + " seed=" + Seed.ToString(CultureInfo.InvariantCulture);

    public RingAttentionOptions Options => new()
    {
        Heads = Heads,
        KvHeads = KvHeads,
        HeadDim = HeadDim,
        SequenceLength = SequenceLength,
        Layout = Layout,
        Causal = Causal,
        Buffers = Buffers,
    };

    /// <summary>Runs the fp32 ring with <typeparamref name="TKernel"/>.</summary>
    public RingResult Run<TKernel>()
        where TKernel : IAttentionBlockKernel<float> =>
        Run<TKernel, float>(x => x, x => x);

    /// <summary>
    /// Runs the ring with <typeparamref name="TElement"/> operands and outputs; inputs are rounded to the
    /// element first, so the reference sees exactly what the kernel sees.
    /// </summary>
    public RingResult Run<TKernel, TElement>(Func<float, TElement> narrow, Func<TElement, float> widen)
        where TKernel : IAttentionBlockKernel<TElement>
        where TElement : unmanaged
    {
        var random = new Random(Seed);
        float[] q = Values(random, Heads * SequenceLength * HeadDim, InputScale, narrow, widen);
        float[] k = Values(random, KvHeads * SequenceLength * HeadDim, 1f, narrow, widen);
        float[] v = Values(random, KvHeads * SequenceLength * HeadDim, 1f, narrow, widen);
        var options = Options;
        var (expectedO, expectedLse) = AttentionReference.Full(
            q, k, v, Heads, KvHeads, SequenceLength, HeadDim, Causal, 1.0 / Math.Sqrt(HeadDim));

        var outputs = new TElement[Ranks][];
        var lses = new float[Ranks][];
        var timings = new RingAttentionTimings[Ranks];
        var ring = InProcessRing.Create(Ranks, TimeSpan.FromSeconds(60));
        InProcessRing.RunRanks(ring, communicator =>
        {
            int rank = communicator.Rank;
            var shard = SequenceShard.For(Layout, SequenceLength, Ranks, rank);
            var o = new TElement[Heads * shard.LocalLength * HeadDim];
            Array.Fill(o, narrow(float.NaN));
            var lse = new float[Heads * shard.LocalLength];
            Array.Fill(lse, float.NaN);
            timings[rank] = RingAttentionDriver.Forward<TKernel, TElement>(
                communicator,
                options,
                Gather(q, Heads, shard, narrow),
                Gather(k, KvHeads, shard, narrow),
                Gather(v, KvHeads, shard, narrow),
                o,
                lse);
            outputs[rank] = o;
            lses[rank] = lse;
        });

        double diffO = 0, normO = 0, diffL = 0, normL = 0;
        for (int rank = 0; rank < Ranks; rank++)
        {
            var shard = SequenceShard.For(Layout, SequenceLength, Ranks, rank);
            for (int head = 0; head < Heads; head++)
            {
                for (int i = 0; i < shard.LocalLength; i++)
                {
                    int local = head * shard.LocalLength + i;
                    int global = head * SequenceLength + shard.GlobalPosition(i);
                    float gotL = lses[rank][local];
                    Assert.False(float.IsNaN(gotL) || float.IsPositiveInfinity(gotL),
                        $"{this}: rank {rank} L[{head},{i}] = {gotL} (not written, or NaN).");
                    Assert.True(float.IsFinite(gotL) == double.IsFinite(expectedLse[global]),
                        $"{this}: rank {rank} L[{head},{i}] = {gotL}, expected {expectedLse[global]}.");
                    if (float.IsFinite(gotL))
                    {
                        diffL += (gotL - expectedLse[global]) * (gotL - expectedLse[global]);
                        normL += expectedLse[global] * expectedLse[global];
                    }
                    for (int c = 0; c < HeadDim; c++)
                    {
                        float got = widen(outputs[rank][local * HeadDim + c]);
                        double want = expectedO[global * HeadDim + c];
                        Assert.True(float.IsFinite(got), $"{this}: rank {rank} O[{head},{i},{c}] = {got} (not written, or not finite).");
                        diffO += (got - want) * (got - want);
                        normO += want * want;
                    }
                }
            }
        }
        return new RingResult(Math.Sqrt(diffO / Math.Max(normO, double.Epsilon)), Math.Sqrt(diffL / Math.Max(normL, double.Epsilon)), timings);
    }

    /// <summary>Random values in [−scale, scale), rounded through the element type.</summary>
    private static float[] Values<TElement>(Random random, int count, float scale, Func<float, TElement> narrow, Func<TElement, float> widen)
    {
        var values = new float[count];
        for (int i = 0; i < count; i++)
        {
            values[i] = widen(narrow(scale * (random.NextSingle() * 2 - 1)));
        }
        return values;
    }

    /// <summary>The rank's rows of a global [heads, S, d] tensor: local row i of each head is global row GlobalPosition(i).</summary>
    private TElement[] Gather<TElement>(float[] global, int heads, SequenceShard shard, Func<float, TElement> narrow)
    {
        var local = new TElement[heads * shard.LocalLength * HeadDim];
        for (int head = 0; head < heads; head++)
        {
            for (int i = 0; i < shard.LocalLength; i++)
            {
                int from = (head * SequenceLength + shard.GlobalPosition(i)) * HeadDim;
                int to = (head * shard.LocalLength + i) * HeadDim;
                for (int c = 0; c < HeadDim; c++)
                {
                    local[to + c] = narrow(global[from + c]);
                }
            }
        }
        return local;
    }
}
