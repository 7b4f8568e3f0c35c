using System;
using System.Globalization;
using KernelDsl.Cuda;
using KernelDsl.Ring;
using KernelDsl.Tests.Ring;
using Xunit;
using Xunit.Abstractions;

namespace KernelDsl.Tests.Cuda;

/// <summary>
/// The generated ring-attention CUDA entry points (<c>LaunchStep</c>, <c>LaunchFinalize</c>). Without a device the
/// argument rules are checked; on a GPU, a ring of P ranks is played on one device — each rank's Q shard against
/// every rank's K/V shard in ring order, then finalize — and every rank's O and L are compared with single-device
/// float64 attention at the global positions its rows hold (outputs poisoned with NaN first).
/// </summary>
public sealed class AttentionGpuTests(ITestOutputHelper output)
{
    private delegate void Step<T>(
        CudaStream stream, DeviceBuffer<T> q, DeviceBuffer<T> k, DeviceBuffer<T> v, DeviceBuffer<float> oRun, DeviceBuffer<float> lRun,
        int heads, int kvHeads, int queries, int keys, SequenceShard queryShard, SequenceShard keyShard)
        where T : unmanaged;

    private delegate void Finalize<T>(
        CudaStream stream, DeviceBuffer<float> oRun, DeviceBuffer<float> lRun, DeviceBuffer<T> o, DeviceBuffer<float> lse, int heads, int queries)
        where T : unmanaged;

    private sealed record Kernel<T>(AttentionInfo Info, Step<T> Step, Finalize<T> Finalize, Func<float, T> Narrow, Func<T, float> Widen)
        where T : unmanaged;

    private static readonly Kernel<float> F32Causal = new(AttentionF32Causal.Info, AttentionF32Causal.LaunchStep, AttentionF32Causal.LaunchFinalize, x => x, x => x);

    private static readonly Kernel<Half> F16 = new(AttentionF16.Info, AttentionF16.LaunchStep, AttentionF16.LaunchFinalize, x => (Half)x, x => (float)x);

    private static readonly Kernel<BFloat16> Bf16Causal = new(AttentionBF16Causal.Info, AttentionBF16Causal.LaunchStep, AttentionBF16Causal.LaunchFinalize, x => (BFloat16)x, x => (float)x);

    [Fact]
    public void Step_arguments_are_checked_and_name_the_parameter()
    {
        var shard = SequenceShard.For(RingLayout.Zigzag, 40, 2, 0);  // 20 tokens in two segments
        void Check(string parameter, int q = 2 * 20 * 64, int k = 20 * 64, int v = 20 * 64, int oRun = 2 * 20 * 64, int lRun = 2 * 20,
            int heads = 2, int kvHeads = 1, int queries = 20, int keys = 20, SequenceShard? keyShard = null)
        {
            var error = Assert.ThrowsAny<ArgumentException>(() => AttentionLaunch.CheckStep(
                64, q, k, v, oRun, lRun, heads, kvHeads, queries, keys, shard, keyShard ?? shard));
            Assert.Equal(parameter, error.ParamName);
        }

        AttentionLaunch.CheckStep(64, 2 * 20 * 64, 20 * 64, 20 * 64, 2 * 20 * 64, 2 * 20, 2, 1, 20, 20, shard, shard);
        Check("q", q: 2 * 20 * 64 - 1);
        Check("k", k: 100);
        Check("v", v: 0);
        Check("oRun", oRun: 64);
        Check("lRun", lRun: 39);
        Check("kvHeads", heads: 3, kvHeads: 2, q: 3 * 20 * 64, oRun: 3 * 20 * 64, lRun: 60, k: 2 * 20 * 64, v: 2 * 20 * 64);
        Check("kvHeads", kvHeads: 0);
        Check("heads", heads: -1);
        Check("queryShard", queries: 19);
        Check("keyShard", keyShard: SequenceShard.For(RingLayout.Zigzag, 41, 2, 0));  // 21 tokens, keys = 20
        Check("keys", keys: -1);
    }

    [Fact]
    public void Finalize_arguments_are_checked_and_name_the_parameter()
    {
        AttentionLaunch.CheckFinalize(128, 3 * 7 * 128, 21, 3 * 7 * 128, 21, 3, 7);
        Assert.Equal("oRun", Assert.ThrowsAny<ArgumentException>(() => AttentionLaunch.CheckFinalize(128, 10, 21, 3 * 7 * 128, 21, 3, 7)).ParamName);
        Assert.Equal("lRun", Assert.ThrowsAny<ArgumentException>(() => AttentionLaunch.CheckFinalize(128, 3 * 7 * 128, 20, 3 * 7 * 128, 21, 3, 7)).ParamName);
        Assert.Equal("o", Assert.ThrowsAny<ArgumentException>(() => AttentionLaunch.CheckFinalize(128, 3 * 7 * 128, 21, 5, 21, 3, 7)).ParamName);
        Assert.Equal("lse", Assert.ThrowsAny<ArgumentException>(() => AttentionLaunch.CheckFinalize(128, 3 * 7 * 128, 21, 3 * 7 * 128, 0, 3, 7)).ParamName);
        Assert.Equal("queries", Assert.ThrowsAny<ArgumentException>(() => AttentionLaunch.CheckFinalize(128, 0, 0, 0, 0, 3, -7)).ParamName);
    }

    [Fact]
    public void Finalize_grid_covers_four_values_per_thread()
    {
        Assert.Equal(1, AttentionLaunch.FinalizeBlocks(1, 16, 256));
        Assert.Equal(8, AttentionLaunch.FinalizeBlocks(64, 128, 256));   // 2048 quads
        Assert.Equal(9, AttentionLaunch.FinalizeBlocks(65, 128, 256));
        Assert.Equal(65536, AttentionLaunch.FinalizeBlocks(1 << 20, 256, 256));  // capped; the kernel loops
    }

    [GpuFact]
    public void Fp32_causal_zigzag_ring_matches_float64()
    {
        Ring(F32Causal, ranks: 3, sequenceLength: 301, heads: 4, kvHeads: 2, RingLayout.Zigzag, outputTolerance: 1e-5, lseTolerance: 1e-5);
        Ring(F32Causal, ranks: 1, sequenceLength: 77, heads: 1, kvHeads: 1, RingLayout.Zigzag, outputTolerance: 1e-5, lseTolerance: 1e-5);
    }

    [GpuFact]
    public void Fp16_ring_matches_float64_every_layout()
    {
        foreach (var layout in new[] { RingLayout.Contiguous, RingLayout.Striped, RingLayout.Zigzag })
        {
            Ring(F16, ranks: 4, sequenceLength: 1000, heads: 2, kvHeads: 2, layout, outputTolerance: 1e-3, lseTolerance: 1e-4);
        }
    }

    [GpuFact]
    public void Bf16_causal_striped_ring_with_gqa_matches_float64()
    {
        Ring(Bf16Causal, ranks: 2, sequenceLength: 517, heads: 4, kvHeads: 1, RingLayout.Striped, outputTolerance: 8e-3, lseTolerance: 1e-4);
    }

    [GpuFact]
    public void Logits_around_1e4_stay_finite()
    {
        Ring(F32Causal, ranks: 2, sequenceLength: 150, heads: 2, kvHeads: 2, RingLayout.Zigzag, outputTolerance: 1e-4, lseTolerance: 1e-5, inputScale: 3e4f);
        Ring(F16, ranks: 2, sequenceLength: 150, heads: 2, kvHeads: 2, RingLayout.Contiguous, outputTolerance: 1e-3, lseTolerance: 1e-4, inputScale: 3e4f);
    }

    /// <summary>A causal step whose keys all follow the queries leaves (O, L) = (0, −∞): finalize gives exactly that, no NaN.</summary>
    [GpuFact]
    public void A_step_with_no_visible_key_leaves_rows_empty()
    {
        EmptyRows(F32Causal, "F32");
        EmptyRows(Bf16Causal, "BF16");
    }

    private void EmptyRows<T>(Kernel<T> kernel, string name)
        where T : unmanaged
    {
        const int heads = 2, sequence = 90;
        int d = kernel.Info.HeadDim;
        var queryShard = SequenceShard.For(RingLayout.Contiguous, sequence, 2, 0);
        var keyShard = SequenceShard.For(RingLayout.Contiguous, sequence, 2, 1);
        var random = new Random(17);
        using var stream = new CudaStream();
        using var q = Upload(Values(random, heads * queryShard.LocalLength * d, 1f, kernel.Narrow));
        using var k = Upload(Values(random, heads * keyShard.LocalLength * d, 1f, kernel.Narrow));
        using var v = Upload(Values(random, heads * keyShard.LocalLength * d, 1f, kernel.Narrow));
        using var oRun = new DeviceBuffer<float>(heads * queryShard.LocalLength * d);
        using var lRun = new DeviceBuffer<float>(heads * queryShard.LocalLength);
        using var o = new DeviceBuffer<T>(heads * queryShard.LocalLength * d);
        using var lse = new DeviceBuffer<float>(heads * queryShard.LocalLength);
        AttentionLaunch.InitializeRunningState(oRun, lRun);
        o.Fill(kernel.Narrow(float.NaN));
        lse.Fill(float.NaN);

        kernel.Step(stream, q, k, v, oRun, lRun, heads, heads, queryShard.LocalLength, keyShard.LocalLength, queryShard, keyShard);
        kernel.Finalize(stream, oRun, lRun, o, lse, heads, queryShard.LocalLength);
        stream.Synchronize();

        var outputs = new T[o.Length];
        var lses = new float[lse.Length];
        o.CopyTo(outputs);
        lse.CopyTo(lses);
        Assert.All(lses, value => Assert.True(float.IsNegativeInfinity(value), $"{name}: L = {value}, expected -inf"));
        Assert.All(outputs, value => Assert.True(kernel.Widen(value) == 0f, $"{name}: O = {kernel.Widen(value)}, expected 0"));
    }

    /// <summary>Plays a ring of <paramref name="ranks"/> ranks on one device and compares every rank's O and L with float64.</summary>
    private void Ring<T>(
        Kernel<T> kernel, int ranks, int sequenceLength, int heads, int kvHeads, RingLayout layout,
        double outputTolerance, double lseTolerance, float inputScale = 1f)
        where T : unmanaged
    {
        var info = kernel.Info;
        int d = info.HeadDim;
        int seed = StableSeed(string.Create(CultureInfo.InvariantCulture, $"{info.Name} {ranks} {sequenceLength} {heads} {kvHeads} {layout} {inputScale}"));
        var random = new Random(seed);
        float[] q = Array.ConvertAll(Values(random, heads * sequenceLength * d, inputScale, kernel.Narrow), x => kernel.Widen(x));
        float[] k = Array.ConvertAll(Values(random, kvHeads * sequenceLength * d, 1f, kernel.Narrow), x => kernel.Widen(x));
        float[] v = Array.ConvertAll(Values(random, kvHeads * sequenceLength * d, 1f, kernel.Narrow), x => kernel.Widen(x));
        var (expectedO, expectedLse) = AttentionReference.Full(q, k, v, heads, kvHeads, sequenceLength, d, info.Causal, info.Scale);

        using var stream = new CudaStream();
        double diffO = 0, normO = 0, diffL = 0, normL = 0;
        for (int rank = 0; rank < ranks; rank++)
        {
            var queryShard = SequenceShard.For(layout, sequenceLength, ranks, rank);
            int queries = queryShard.LocalLength;
            using var deviceQ = Upload(Gather(q, heads, sequenceLength, d, queryShard, kernel.Narrow));
            using var oRun = new DeviceBuffer<float>(heads * queries * d);
            using var lRun = new DeviceBuffer<float>(heads * queries);
            AttentionLaunch.InitializeRunningState(oRun, lRun);
            for (int step = 0; step < ranks; step++)
            {
                var keyShard = SequenceShard.For(layout, sequenceLength, ranks, (rank - step + ranks) % ranks);
                using var deviceK = Upload(Gather(k, kvHeads, sequenceLength, d, keyShard, kernel.Narrow));
                using var deviceV = Upload(Gather(v, kvHeads, sequenceLength, d, keyShard, kernel.Narrow));
                kernel.Step(stream, deviceQ, deviceK, deviceV, oRun, lRun, heads, kvHeads, queries, keyShard.LocalLength, queryShard, keyShard);
                stream.Synchronize();  // the K/V buffers are freed at the end of the iteration
            }
            using var o = new DeviceBuffer<T>(heads * queries * d);
            using var lse = new DeviceBuffer<float>(heads * queries);
            o.Fill(kernel.Narrow(float.NaN));
            lse.Fill(float.NaN);
            kernel.Finalize(stream, oRun, lRun, o, lse, heads, queries);
            stream.Synchronize();
            var outputs = new T[o.Length];
            var lses = new float[lse.Length];
            o.CopyTo(outputs);
            lse.CopyTo(lses);

            for (int head = 0; head < heads; head++)
            {
                for (int i = 0; i < queries; i++)
                {
                    int local = head * queries + i, global = head * sequenceLength + queryShard.GlobalPosition(i);
                    Assert.True(float.IsFinite(lses[local]), $"{info.Name} rank {rank} L[{head},{i}] = {lses[local]} (seed {seed})");
                    diffL += Math.Pow(lses[local] - expectedLse[global], 2);
                    normL += expectedLse[global] * expectedLse[global];
                    for (int c = 0; c < d; c++)
                    {
                        float got = kernel.Widen(outputs[local * d + c]);
                        Assert.True(float.IsFinite(got), $"{info.Name} rank {rank} O[{head},{i},{c}] = {got} (seed {seed})");
                        diffO += Math.Pow(got - expectedO[global * d + c], 2);
                        normO += expectedO[global * d + c] * expectedO[global * d + c];
                    }
                }
            }
        }
        double errorO = Math.Sqrt(diffO / normO), errorL = Math.Sqrt(diffL / Math.Max(normL, double.Epsilon));
        string what = string.Create(CultureInfo.InvariantCulture,
            $"{info.Name} P={ranks} S={sequenceLength} heads={heads}/{kvHeads} {layout} q×{inputScale} seed {seed}: O error {errorO:E2}, L error {errorL:E2}");
        output.WriteLine(what);
        Assert.True(errorO <= outputTolerance, what + $" (O tolerance {outputTolerance:E0})");
        Assert.True(errorL <= lseTolerance, what + $" (L tolerance {lseTolerance:E0})");
    }

    /// <summary>FNV-1a of the case (string.GetHashCode is randomised per process), so a failure's seed reproduces it.</summary>
    private static int StableSeed(string text)
    {
        uint hash = 2166136261;
        foreach (char ch in text)
        {
            hash = (hash ^ ch) * 16777619;
        }
        return (int)(hash & 0x7fffffff);
    }

    private static T[] Values<T>(Random random, int count, float scale, Func<float, T> narrow)
    {
        var values = new T[count];
        for (int i = 0; i < count; i++)
        {
            values[i] = narrow(scale * (random.NextSingle() * 2 - 1));
        }
        return values;
    }

    /// <summary>The rank's rows of a global [heads, S, d] tensor: local row i of each head is global row GlobalPosition(i).</summary>
    private static T[] Gather<T>(float[] global, int heads, int sequenceLength, int d, SequenceShard shard, Func<float, T> narrow)
    {
        var local = new T[heads * shard.LocalLength * d];
        for (int head = 0; head < heads; head++)
        {
            for (int i = 0; i < shard.LocalLength; i++)
            {
                int from = (head * sequenceLength + shard.GlobalPosition(i)) * d, to = (head * shard.LocalLength + i) * d;
                for (int c = 0; c < d; c++)
                {
                    local[to + c] = narrow(global[from + c]);
                }
            }
        }
        return local;
    }

    private static DeviceBuffer<T> Upload<T>(T[] host)
        where T : unmanaged
    {
        var buffer = new DeviceBuffer<T>(host.Length);
        buffer.CopyFrom(host);
        return buffer;
    }
}
