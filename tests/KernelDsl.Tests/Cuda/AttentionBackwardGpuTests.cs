using System;
using KernelDsl.Cuda;
using KernelDsl.Ring;
using Xunit;
using Xunit.Abstractions;

namespace KernelDsl.Tests.Cuda;

/// <summary>
/// The generated backward entry points (<c>LaunchBackwardDelta</c>, <c>LaunchBackwardStep</c>, <c>LaunchFinalizeGradient</c>).
/// Without a device the argument rules are checked; on a GPU, backward rings are played on one device through
/// <see cref="DeviceBackwardRing"/> and dQ, dK, dV compared with float64 gradients (the emulator runs the same rings in CI).
/// </summary>
public sealed class AttentionBackwardGpuTests(ITestOutputHelper output)
{
    private static readonly DeviceBackwardRing.Kernel<Half> F16 = new(
        AttentionF16.Info, AttentionF16.LaunchBackwardDelta, AttentionF16.LaunchBackwardStep, AttentionF16.LaunchFinalizeGradient, x => (Half)x, x => (float)x);

    private static readonly DeviceBackwardRing.Kernel<BFloat16> Bf16Causal = new(
        AttentionBF16Causal.Info, AttentionBF16Causal.LaunchBackwardDelta, AttentionBF16Causal.LaunchBackwardStep, AttentionBF16Causal.LaunchFinalizeGradient,
        x => (BFloat16)x, x => (float)x);

    private static readonly DeviceBackwardRing.Kernel<float> F32Causal = new(
        AttentionF32Causal.Info, AttentionF32Causal.LaunchBackwardDelta, AttentionF32Causal.LaunchBackwardStep, AttentionF32Causal.LaunchFinalizeGradient,
        x => x, x => x);

    [Fact]
    public void Step_arguments_are_checked_and_name_the_parameter()
    {
        var shard = SequenceShard.For(RingLayout.Zigzag, 40, 2, 0);  // 20 tokens
        const int q = 2 * 20 * 64, kv = 20 * 64, rows = 2 * 20;
        void Check(string parameter, int dO = q, int lse = rows, int delta = rows, int dQ = q, int dK = kv, int dV = kv)
        {
            var error = Assert.ThrowsAny<ArgumentException>(() => AttentionBackwardLaunch.CheckStep(
                64, q, kv, kv, dO, lse, delta, dQ, dK, dV, 2, 1, 20, 20, shard, shard));
            Assert.Equal(parameter, error.ParamName);
        }

        AttentionBackwardLaunch.CheckStep(64, q, kv, kv, q, rows, rows, q, kv, kv, 2, 1, 20, 20, shard, shard);
        Check("dO", dO: q - 1);
        Check("lse", lse: rows - 1);
        Check("delta", delta: 0);
        Check("dQ", dQ: 64);
        Check("dK", dK: kv - 1);
        Check("dV", dV: 3);
        Assert.Equal("delta", Assert.ThrowsAny<ArgumentException>(() => AttentionBackwardLaunch.CheckDelta(64, q, q, rows - 1, 2, 20)).ParamName);
        Assert.Equal("gradient", Assert.ThrowsAny<ArgumentException>(() => AttentionBackwardLaunch.CheckGradient(10, 9, 10)).ParamName);
    }

    [GpuFact]
    public void Fp16_backward_ring_matches_float64_every_layout()
    {
        foreach (var layout in new[] { RingLayout.Contiguous, RingLayout.Striped, RingLayout.Zigzag })
        {
            var (dQ, dK, dV) = DeviceBackwardRing.Play(output, CudaDevice.Default, F16, ranks: 4, sequenceLength: 1000, heads: 2, kvHeads: 2, layout);
            Assert.True(dQ <= 7e-4 && dK <= 7e-4 && dV <= 7e-4, $"{layout}: dQ {dQ:E2}, dK {dK:E2}, dV {dV:E2}");
        }
    }

    [GpuFact]
    public void Bf16_causal_backward_ring_with_gqa_matches_float64()
    {
        var (dQ, dK, dV) = DeviceBackwardRing.Play(output, CudaDevice.Default, Bf16Causal, ranks: 2, sequenceLength: 517, heads: 4, kvHeads: 1, RingLayout.Striped);
        Assert.True(dQ <= 5e-3 && dK <= 5e-3 && dV <= 5e-3, $"dQ {dQ:E2}, dK {dK:E2}, dV {dV:E2}");
    }

    [GpuFact]
    public void Fp32_causal_backward_ring_on_cuda_cores_matches_float64()
    {
        var (dQ, dK, dV) = DeviceBackwardRing.Play(output, CudaDevice.Default, F32Causal, ranks: 3, sequenceLength: 700, heads: 4, kvHeads: 2, RingLayout.Zigzag);
        Assert.True(dQ <= 1e-5 && dK <= 1e-5 && dV <= 1e-5, $"dQ {dQ:E2}, dK {dK:E2}, dV {dV:E2}");
    }
}
