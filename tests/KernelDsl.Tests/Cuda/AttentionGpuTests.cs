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
    private static readonly DeviceAttentionRing.Kernel<float> F32Causal = new(AttentionF32Causal.Info, AttentionF32Causal.LaunchStep, AttentionF32Causal.LaunchFinalize, x => x, x => x);

    private static readonly DeviceAttentionRing.Kernel<Half> F16 = new(AttentionF16.Info, AttentionF16.LaunchStep, AttentionF16.LaunchFinalize, x => (Half)x, x => (float)x);

    private static readonly DeviceAttentionRing.Kernel<BFloat16> Bf16Causal = new(AttentionBF16Causal.Info, AttentionBF16Causal.LaunchStep, AttentionBF16Causal.LaunchFinalize, x => (BFloat16)x, x => (float)x);

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
        DeviceAttentionRing.Play(output, CudaDevice.Default, F32Causal, ranks: 3, sequenceLength: 301, heads: 4, kvHeads: 2, RingLayout.Zigzag, outputTolerance: 1e-5, lseTolerance: 1e-5);
        DeviceAttentionRing.Play(output, CudaDevice.Default, F32Causal, ranks: 1, sequenceLength: 77, heads: 1, kvHeads: 1, RingLayout.Zigzag, outputTolerance: 1e-5, lseTolerance: 1e-5);
    }

    [GpuFact]
    public void Fp16_ring_matches_float64_every_layout()
    {
        foreach (var layout in new[] { RingLayout.Contiguous, RingLayout.Striped, RingLayout.Zigzag })
        {
            DeviceAttentionRing.Play(output, CudaDevice.Default, F16, ranks: 4, sequenceLength: 1000, heads: 2, kvHeads: 2, layout, outputTolerance: 1e-3, lseTolerance: 1e-4);
        }
    }

    [GpuFact]
    public void Bf16_causal_striped_ring_with_gqa_matches_float64()
    {
        DeviceAttentionRing.Play(output, CudaDevice.Default, Bf16Causal, ranks: 2, sequenceLength: 517, heads: 4, kvHeads: 1, RingLayout.Striped, outputTolerance: 8e-3, lseTolerance: 1e-4);
    }

    [GpuFact]
    public void Logits_around_1e4_stay_finite()
    {
        DeviceAttentionRing.Play(output, CudaDevice.Default, F32Causal, ranks: 2, sequenceLength: 150, heads: 2, kvHeads: 2, RingLayout.Zigzag, outputTolerance: 1e-4, lseTolerance: 1e-5, inputScale: 3e4f);
        DeviceAttentionRing.Play(output, CudaDevice.Default, F16, ranks: 2, sequenceLength: 150, heads: 2, kvHeads: 2, RingLayout.Contiguous, outputTolerance: 1e-3, lseTolerance: 1e-4, inputScale: 3e4f);
    }

    /// <summary>A causal step whose keys all follow the queries leaves (O, L) = (0, −∞): finalize gives exactly that, no NaN.</summary>
    [GpuFact]
    public void A_step_with_no_visible_key_leaves_rows_empty()
    {
        EmptyRows(F32Causal, "F32");
        EmptyRows(Bf16Causal, "BF16");
    }

    private static void EmptyRows<T>(DeviceAttentionRing.Kernel<T> kernel, string name)
        where T : unmanaged
    {
        const int heads = 2, sequence = 90;
        int d = kernel.Info.HeadDim;
        var queryShard = SequenceShard.For(RingLayout.Contiguous, sequence, 2, 0);
        var keyShard = SequenceShard.For(RingLayout.Contiguous, sequence, 2, 1);
        var random = new Random(17);
        using var stream = new CudaStream();
        using var q = DeviceBuffers.Upload(CudaDevice.Default, DeviceAttentionRing.Values(random, heads * queryShard.LocalLength * d, 1f, kernel.Narrow));
        using var k = DeviceBuffers.Upload(CudaDevice.Default, DeviceAttentionRing.Values(random, heads * keyShard.LocalLength * d, 1f, kernel.Narrow));
        using var v = DeviceBuffers.Upload(CudaDevice.Default, DeviceAttentionRing.Values(random, heads * keyShard.LocalLength * d, 1f, kernel.Narrow));
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
}
