using System;
using System.Globalization;
using System.Linq;
using KernelDsl.Cpu;
using KernelDsl.Ring;
using KernelDsl.Tests.Emulation;
using Xunit;
using Xunit.Abstractions;

namespace KernelDsl.Tests.Ring;

/// <summary>
/// <see cref="RingBackwardDriver"/> against the float64 analytic gradients (<see cref="AttentionBackwardReference"/>, itself
/// checked by finite differences): every element of dQ, dK and dV of every rank, on in-process rings of 1 to 8 ranks,
/// every layout, causal and not, grouped-query heads and sequence lengths the ranks do not divide. Inputs are fresh
/// random values rounded to the element type; O and L come from the float64 forward pass; outputs are poisoned first.
/// </summary>
public sealed class AttentionBackwardTests(ITestOutputHelper output)
{
    public static TheoryData<int, RingLayout, bool, int, int, int, int> Rings()
    {
        var data = new TheoryData<int, RingLayout, bool, int, int, int, int>();
        foreach (RingLayout layout in Enum.GetValues<RingLayout>())
        {
            foreach (bool causal in new[] { false, true })
            {
                foreach (int ranks in new[] { 1, 2, 3, 4 })
                {
                    data.Add(ranks, layout, causal, 4, 2, 77, 16);  // GQA; 77 tokens: uneven shards
                }
            }
        }
        data.Add(8, RingLayout.Zigzag, true, 2, 2, 64, 16);
        data.Add(3, RingLayout.Striped, true, 2, 1, 50, 64);
        data.Add(2, RingLayout.Contiguous, true, 2, 2, 40, 128);
        return data;
    }

    [Theory]
    [MemberData(nameof(Rings))]
    public void F32_ring_matches_the_float64_gradients(int ranks, RingLayout layout, bool causal, int heads, int kvHeads, int s, int d)
    {
        var errors = Run<float>(ranks, layout, causal, heads, kvHeads, s, d, buffers: 2, seed: 1);
        output.WriteLine(errors.Describe());
        Assert.True(errors.Max <= 1e-5, errors.Describe());
    }

    [Theory]
    [InlineData(RingLayout.Zigzag, 2)]
    [InlineData(RingLayout.Contiguous, 1)]
    public void Sixteen_bit_rings_stay_within_twice_the_rounding_of_the_exact_gradients(RingLayout layout, int buffers)
    {
        foreach (var errors in new[]
        {
            Run<Half>(4, layout, causal: true, heads: 4, kvHeads: 2, s: 96, d: 64, buffers, seed: 2),
            Run<BFloat16>(3, layout, causal: false, heads: 2, kvHeads: 2, s: 70, d: 64, buffers, seed: 3),
        })
        {
            output.WriteLine(errors.Describe());
            Assert.True(errors.Max <= 2 * errors.RoundingMax + 1e-6, errors.Describe());
        }
    }

    /// <summary>A training step through the generated members: the kernel's Forward on a ring, then its Backward, and AttentionBackward on one device.</summary>
    [Fact]
    public void Generated_forward_then_backward_match_the_float64_gradients()
    {
        const int ranks = 3, heads = 2, s = 90, d = 64;
        var random = new Random(6);
        float[] q = Values(random, heads * s * d, 1f), k = Values(random, heads * s * d, 1f), v = Values(random, heads * s * d, 1f), dO = Values(random, heads * s * d, 1f);
        var (eq, ek, ev) = AttentionBackwardReference.Gradients(
            Array.ConvertAll(q, x => (double)x), Array.ConvertAll(k, x => (double)x), Array.ConvertAll(v, x => (double)x), Array.ConvertAll(dO, x => (double)x),
            heads, heads, s, d, causal: true, 1 / Math.Sqrt(d));
        double[] gq = new double[eq.Length], gk = new double[ek.Length], gv = new double[ev.Length];
        InProcessRing.RunRanks(InProcessRing.Create(ranks), ring =>
        {
            var shard = Attention.F32CausalZigzag.Shard(s, ranks, ring.Rank);
            int rows = shard.LocalLength;
            float[] lq = Gather(q, heads, s, d, shard, x => x), lk = Gather(k, heads, s, d, shard, x => x), lv = Gather(v, heads, s, d, shard, x => x);
            float[] o = Poisoned(lq.Length), lse = Poisoned(heads * rows), dQ = Poisoned(lq.Length), dK = Poisoned(lk.Length), dV = Poisoned(lv.Length);
            Attention.F32CausalZigzag.Forward(ring, heads, heads, s, lq, lk, lv, o, lse);
            Attention.F32CausalZigzag.Backward(ring, heads, heads, s, lq, lk, lv, o, lse, Gather(dO, heads, s, d, shard, x => x), dQ, dK, dV);
            lock (gq)
            {
                Scatter(dQ, gq, heads, s, d, shard);
                Scatter(dK, gk, heads, s, d, shard);
                Scatter(dV, gv, heads, s, d, shard);
            }
        });
        double[] ring = [Relative(gq, eq), Relative(gk, ek), Relative(gv, ev)];

        float[] o1 = Poisoned(q.Length), lse1 = Poisoned(heads * s), dQ1 = Poisoned(q.Length), dK1 = Poisoned(k.Length), dV1 = Poisoned(v.Length);
        Attention.F32CausalZigzag.Attention(q, k, v, o1, lse1, heads, heads, s);
        Attention.F32CausalZigzag.AttentionBackward(q, k, v, o1, lse1, dO, dQ1, dK1, dV1, heads, heads, s);
        double[] single = [Relative(Array.ConvertAll(dQ1, x => (double)x), eq), Relative(Array.ConvertAll(dK1, x => (double)x), ek), Relative(Array.ConvertAll(dV1, x => (double)x), ev)];
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"ring of {ranks}: {ring[0]:E2} {ring[1]:E2} {ring[2]:E2}; one device: {single[0]:E2} {single[1]:E2} {single[2]:E2}"));
        Assert.All(ring.Concat(single), error => Assert.True(error <= 1e-5, $"relative error {error}"));
    }

    /// <summary>The generated step members driven by hand, shards in reverse order, on one thread: the same gradients as the ring.</summary>
    [Fact]
    public void Driving_the_backward_steps_yourself_matches_the_float64_gradients()
    {
        const int ranks = 3, heads = 2, s = 70, d = 64;
        var random = new Random(9);
        float[] q = Values(random, heads * s * d, 1f), k = Values(random, heads * s * d, 1f), v = Values(random, heads * s * d, 1f), dO = Values(random, heads * s * d, 1f);
        double scale = 1 / Math.Sqrt(d);
        var (o, lse) = AttentionReference.Full(q, k, v, heads, heads, s, d, causal: true, scale);
        float[] oF = Array.ConvertAll(o, x => (float)x), lseF = Array.ConvertAll(lse, x => (float)x);
        var shards = Enumerable.Range(0, ranks).Select(r => Attention.F32CausalZigzag.Shard(s, ranks, r)).ToArray();
        float[][] dK = shards.Select(shard => new float[heads * shard.LocalLength * d]).ToArray();
        float[][] dV = shards.Select(shard => new float[heads * shard.LocalLength * d]).ToArray();
        double[] gq = new double[q.Length], gk = new double[k.Length], gv = new double[v.Length];
        for (int rank = 0; rank < ranks; rank++)
        {
            var shard = shards[rank];
            float[] lq = Gather(q, heads, s, d, shard, x => x), lo = Gather(oF, heads, s, d, shard, x => x), ldo = Gather(dO, heads, s, d, shard, x => x);
            float[] llse = Gather(lseF, heads, s, 1, shard, x => x);
            var delta = new float[heads * shard.LocalLength];
            Attention.F32CausalZigzag.BackwardDelta(lo, ldo, delta);
            var dQ = new float[lq.Length];
            for (int source = ranks - 1; source >= 0; source--)
            {
                Attention.F32CausalZigzag.BackwardStep(heads, heads, s, ranks, rank, source, lq,
                    Gather(k, heads, s, d, shards[source], x => x), Gather(v, heads, s, d, shards[source], x => x), ldo, llse, delta, dQ, dK[source], dV[source]);
            }
            var finished = Poisoned(dQ.Length);
            Attention.F32CausalZigzag.FinalizeGradient(dQ, finished);
            Scatter(finished, gq, heads, s, d, shard);
        }
        for (int rank = 0; rank < ranks; rank++)
        {
            Scatter(dK[rank], gk, heads, s, d, shards[rank]);
            Scatter(dV[rank], gv, heads, s, d, shards[rank]);
        }
        var (eq, ek, ev) = AttentionBackwardReference.Gradients(
            Array.ConvertAll(q, x => (double)x), Array.ConvertAll(k, x => (double)x), Array.ConvertAll(v, x => (double)x), Array.ConvertAll(dO, x => (double)x),
            heads, heads, s, d, causal: true, scale);
        double[] errors = [Relative(gq, eq), Relative(gk, ek), Relative(gv, ev)];
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"by hand: {errors[0]:E2} {errors[1]:E2} {errors[2]:E2}"));
        Assert.All(errors, error => Assert.True(error <= 1e-5, $"relative error {error}"));
    }

    /// <summary>
    /// Both ways of sharing a step among threads (one K/V head per worker; two passes over blocks) and both tile widths
    /// give the exact gradients (the 512-bit tiles run emulated where AVX-512 is missing: slower, the same results).
    /// </summary>
    [Theory]
    [InlineData(nameof(BackwardSchedule.PerKvHead), nameof(CpuIsa.Vector256))]
    [InlineData(nameof(BackwardSchedule.TwoPasses), nameof(CpuIsa.Vector256))]
    [InlineData(nameof(BackwardSchedule.PerKvHead), nameof(CpuIsa.Vector512))]
    [InlineData(nameof(BackwardSchedule.TwoPasses), nameof(CpuIsa.Vector512))]
    public void Each_schedule_and_tile_width_matches_the_float64_gradients(string scheduleName, string isaName)
    {
        var schedule = Enum.Parse<BackwardSchedule>(scheduleName);
        var isa = Enum.Parse<CpuIsa>(isaName);
        const int heads = 4, kvHeads = 2, s = 83, d = 48;
        var random = new Random(8);
        float[] q = Values(random, heads * s * d, 1f), k = Values(random, kvHeads * s * d, 1f), v = Values(random, kvHeads * s * d, 1f), dO = Values(random, heads * s * d, 1f);
        double scale = 1 / Math.Sqrt(d);
        var (o, lse) = AttentionReference.Full(q, k, v, heads, kvHeads, s, d, causal: true, scale);
        var delta = new float[heads * s];
        for (int row = 0; row < heads * s; row++)
        {
            for (int c = 0; c < d; c++) delta[row] += (float)(dO[row * d + c] * o[row * d + c]);
        }
        var shard = SequenceShard.For(RingLayout.Contiguous, s, 1, 0);
        var arguments = new AttentionStepArguments(heads, kvHeads, d, (float)scale, causal: true, shard, shard, stateIsInitial: false);
        float[] dQ = new float[q.Length], dK = new float[k.Length], dV = new float[v.Length];
        CpuAttentionBackward.Step(arguments, q, k, v, dO, Array.ConvertAll(lse, x => (float)x), delta, dQ, dK, dV, isa, schedule);

        var (eq, ek, ev) = AttentionBackwardReference.Gradients(
            Array.ConvertAll(q, x => (double)x), Array.ConvertAll(k, x => (double)x), Array.ConvertAll(v, x => (double)x), Array.ConvertAll(dO, x => (double)x),
            heads, kvHeads, s, d, causal: true, scale);
        double[] errors = [Relative(Array.ConvertAll(dQ, x => (double)x), eq), Relative(Array.ConvertAll(dK, x => (double)x), ek), Relative(Array.ConvertAll(dV, x => (double)x), ev)];
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{schedule} {isa}: {errors[0]:E2} {errors[1]:E2} {errors[2]:E2}"));
        Assert.All(errors, error => Assert.True(error <= 1e-5, $"relative error {error}"));
    }

    [Fact]
    public void The_reference_matches_finite_differences()
    {
        const int heads = 2, kvHeads = 1, s = 6, d = 4;
        const double scale = 0.7, h = 1e-6;
        var random = new Random(4);
        double[] Values(int n) => Enumerable.Range(0, n).Select(_ => random.NextDouble() * 2 - 1).ToArray();
        double[] q = Values(heads * s * d), k = Values(kvHeads * s * d), v = Values(kvHeads * s * d), dO = Values(heads * s * d);
        foreach (bool causal in new[] { false, true })
        {
            var (dQ, dK, dV) = AttentionBackwardReference.Gradients(q, k, v, dO, heads, kvHeads, s, d, causal, scale);
            foreach (var (x, gradient, name) in new[] { (q, dQ, "q"), (k, dK, "k"), (v, dV, "v") })
            {
                for (int e = 0; e < x.Length; e += 3)
                {
                    double kept = x[e];
                    x[e] = kept + h;
                    double plus = AttentionBackwardReference.Loss(q, k, v, dO, heads, kvHeads, s, d, causal, scale);
                    x[e] = kept - h;
                    double minus = AttentionBackwardReference.Loss(q, k, v, dO, heads, kvHeads, s, d, causal, scale);
                    x[e] = kept;
                    double numeric = (plus - minus) / (2 * h);
                    Assert.True(Math.Abs(numeric - gradient[e]) <= 1e-6 * (1 + Math.Abs(numeric)), $"d{name}[{e}] causal={causal}: {gradient[e]} vs {numeric}");
                }
            }
        }
    }

    [Fact]
    public void Rows_that_saw_no_key_get_zero_gradients_and_large_logits_stay_finite()
    {
        const int heads = 2, s = 48, d = 32;
        var random = new Random(5);
        // Logits up to ±1e4: q·k of 32 values of ±~18 each, scale 1.
        float[] q = Values(random, heads * s * d, 18f), k = Values(random, heads * s * d, 18f), v = Values(random, heads * s * d, 1f), dO = Values(random, heads * s * d, 1f);
        var options = new RingAttentionOptions { Heads = heads, HeadDim = d, SequenceLength = s, Causal = true, Scale = 1f };
        var (o, lse) = AttentionReference.Full(q, k, v, heads, heads, s, d, causal: true, 1.0);
        float[] lseIn = Array.ConvertAll(lse, x => (float)x);
        lseIn[3] = float.NegativeInfinity;  // as if row 3 of head 0 had seen no key
        float[] dQ = Poisoned(q.Length), dK = Poisoned(k.Length), dV = Poisoned(v.Length);
        RingBackwardDriver.AttentionBackward<float>(options, q, k, v, Array.ConvertAll(o, x => (float)x), lseIn, dO, dQ, dK, dV);
        Assert.All(dQ.Concat(dK).Concat(dV), x => Assert.True(float.IsFinite(x)));
        Assert.All(dQ.AsSpan(3 * d, d).ToArray(), x => Assert.Equal(0f, x));
    }

    [Fact]
    public void A_rank_in_the_forward_pass_stops_a_backward_ring()
    {
        var options = new RingAttentionOptions { Heads = 2, HeadDim = 16, SequenceLength = 32, Layout = RingLayout.Zigzag, Causal = true };
        var ring = InProcessRing.Create(3, TimeSpan.FromSeconds(30));
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var failure = Assert.Throws<AggregateException>(() => InProcessRing.RunRanks(ring, communicator =>
        {
            int rows = SequenceShard.For(options.Layout, options.SequenceLength, 3, communicator.Rank).LocalLength;
            var x = new float[options.Heads * rows * options.HeadDim];
            var lse = new float[options.Heads * rows];
            if (communicator.Rank == 1)
            {
                RingAttentionDriver.Forward<ReferenceBlockKernel, float>(communicator, options, x, x, x, new float[x.Length], lse);
            }
            else
            {
                RingBackwardDriver.Backward<float>(communicator, options, x, x, x, x, lse, x, new float[x.Length], new float[x.Length], new float[x.Length]);
            }
        }));
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"{clock.Elapsed.TotalSeconds:F1} s");
        Assert.Equal(3, failure.InnerExceptions.Count);
        Assert.Contains(failure.InnerExceptions, e => e is RingConfigurationException c && c.Fields.Contains("Pass"));
    }

    private sealed record Errors(string Case, double[] Relative, double[] Rounding)
    {
        public double Max => Relative.Max();

        public double RoundingMax => Rounding.Max();

        public string Describe() => string.Create(CultureInfo.InvariantCulture,
            $"{Case}: relative error dQ {Relative[0]:E2} dK {Relative[1]:E2} dV {Relative[2]:E2} (the exact gradients rounded: {Rounding[0]:E2} {Rounding[1]:E2} {Rounding[2]:E2})");
    }

    private static Errors Run<T>(int ranks, RingLayout layout, bool causal, int heads, int kvHeads, int s, int d, int buffers, int seed)
        where T : unmanaged
    {
        var random = new Random(seed * 7919 + ranks * 31 + s);
        float[] q = Round<T>(Values(random, heads * s * d, 1f)), k = Round<T>(Values(random, kvHeads * s * d, 1f));
        float[] v = Round<T>(Values(random, kvHeads * s * d, 1f)), dO = Round<T>(Values(random, heads * s * d, 1f));
        double scale = 1 / Math.Sqrt(d);
        var (o, lse) = AttentionReference.Full(q, k, v, heads, kvHeads, s, d, causal, scale);
        var (eq, ek, ev) = AttentionBackwardReference.Gradients(
            Array.ConvertAll(q, x => (double)x), Array.ConvertAll(k, x => (double)x), Array.ConvertAll(v, x => (double)x), Array.ConvertAll(dO, x => (double)x),
            heads, kvHeads, s, d, causal, scale);
        var options = new RingAttentionOptions { Heads = heads, KvHeads = kvHeads, HeadDim = d, SequenceLength = s, Layout = layout, Causal = causal, Buffers = buffers };

        double[] gq = new double[eq.Length], gk = new double[ek.Length], gv = new double[ev.Length];
        var ring = InProcessRing.Create(ranks);
        InProcessRing.RunRanks(ring, communicator =>
        {
            var shard = SequenceShard.For(layout, s, ranks, communicator.Rank);
            int rows = shard.LocalLength;
            T[] Local(float[] global, int h) => Gather(global, h, s, d, shard, x => EmulatedGemm.FromFloat<T>(x));
            float[] localLse = Gather(Array.ConvertAll(lse, x => (float)x), heads, s, 1, shard, x => x);
            T[] localO = Gather(Array.ConvertAll(o, x => (float)x), heads, s, d, shard, x => EmulatedGemm.FromFloat<T>(x));
            T[] dQ = Poison<T>(heads * rows * d), dK = Poison<T>(kvHeads * rows * d), dV = Poison<T>(kvHeads * rows * d);
            RingBackwardDriver.Backward<T>(communicator, options, Local(q, heads), Local(k, kvHeads), Local(v, kvHeads), localO, localLse, Local(dO, heads), dQ, dK, dV);
            lock (gq)
            {
                Scatter(dQ, gq, heads, s, d, shard);
                Scatter(dK, gk, kvHeads, s, d, shard);
                Scatter(dV, gv, kvHeads, s, d, shard);
            }
        });

        string name = string.Create(CultureInfo.InvariantCulture, $"{typeof(T).Name} P={ranks} {layout} causal={causal} heads {heads}/{kvHeads} S={s} d={d} buffers={buffers}");
        return new Errors(name,
            [Relative(gq, eq), Relative(gk, ek), Relative(gv, ev)],
            [Relative(Rounded<T>(eq), eq), Relative(Rounded<T>(ek), ek), Relative(Rounded<T>(ev), ev)]);
    }

    private static double Relative(double[] got, double[] expected)
    {
        double diff = 0, norm = 0;
        for (int i = 0; i < got.Length; i++)
        {
            double e = got[i] - expected[i];
            diff += double.IsFinite(e) ? e * e : double.PositiveInfinity;
            norm += expected[i] * expected[i];
        }
        return Math.Sqrt(diff / Math.Max(norm, double.Epsilon));
    }

    private static double[] Rounded<T>(double[] values) where T : unmanaged =>
        Array.ConvertAll(values, x => (double)EmulatedGemm.ToFloat(EmulatedGemm.FromFloat<T>((float)x)));

    private static float[] Round<T>(float[] values) where T : unmanaged =>
        Array.ConvertAll(values, x => EmulatedGemm.ToFloat(EmulatedGemm.FromFloat<T>(x)));

    private static float[] Values(Random random, int count, float scale) =>
        Enumerable.Range(0, count).Select(_ => (random.NextSingle() * 2 - 1) * scale).ToArray();

    private static float[] Poisoned(int count) => Enumerable.Repeat(float.NaN, count).ToArray();

    private static T[] Poison<T>(int count) where T : unmanaged => Enumerable.Repeat(EmulatedGemm.FromFloat<T>(float.NaN), count).ToArray();

    /// <summary>The rows of <paramref name="shard"/> from a [heads, S, width] tensor in global order.</summary>
    private static TOut[] Gather<TOut>(float[] global, int heads, int s, int width, SequenceShard shard, Func<float, TOut> convert)
    {
        int rows = shard.LocalLength;
        var local = new TOut[heads * rows * width];
        for (int h = 0; h < heads; h++)
        {
            for (int i = 0; i < rows; i++)
            {
                int position = shard.GlobalPosition(i);
                for (int c = 0; c < width; c++) local[(h * rows + i) * width + c] = convert(global[(h * s + position) * width + c]);
            }
        }
        return local;
    }

    private static void Scatter<T>(T[] local, double[] global, int heads, int s, int d, SequenceShard shard) where T : unmanaged
    {
        int rows = shard.LocalLength;
        for (int h = 0; h < heads; h++)
        {
            for (int i = 0; i < rows; i++)
            {
                int position = shard.GlobalPosition(i);
                for (int c = 0; c < d; c++) global[(h * s + position) * d + c] = EmulatedGemm.ToFloat(local[(h * rows + i) * d + c]);
            }
        }
    }
}
