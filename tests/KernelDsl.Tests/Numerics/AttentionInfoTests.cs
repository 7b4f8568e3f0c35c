using System;
using System.Linq;
using KernelDsl.Cpu;
using KernelDsl.Ring;
using KernelDsl.Tests.Attention;
using Xunit;

namespace KernelDsl.Tests.Numerics;

public sealed class AttentionInfoTests
{
    private static AttentionInfo Info(Element element, bool causal) =>
        new("Test", "step", "finalize", 128, element, causal, 0.088f, RingLayout.Zigzag, 2, 128, 64, 4, 0);

    [Fact]
    public void Block_that_hides_communication_is_element_bytes_times_flops_over_twice_the_bandwidth()
    {
        // bf16 on an H100-class rank (400 TFLOP/s) over NVLink (450 GB/s): 2·400e12 / (2·450e9) = 889 tokens.
        Assert.Equal(889, Info(Element.BF16, causal: false).MinimumTokensPerRank(450e9, 400e12));
        // The same over 200 Gb/s InfiniBand (25 GB/s) needs 18× more: 16000 tokens.
        Assert.Equal(16000, Info(Element.BF16, causal: false).MinimumTokensPerRank(25e9, 400e12));
    }

    [Fact]
    public void Causal_halves_the_compute_so_doubles_the_block_and_gqa_shrinks_it()
    {
        var causal = Info(Element.F32, causal: true);
        Assert.Equal(2 * Info(Element.F32, causal: false).MinimumTokensPerRank(100e9, 50e12), causal.MinimumTokensPerRank(100e9, 50e12));
        Assert.Equal(causal.MinimumTokensPerRank(100e9, 50e12) / 4, causal.MinimumTokensPerRank(100e9, 50e12, heads: 8, kvHeads: 2));
    }

    [Fact]
    public void Compute_then_matches_the_transfer_at_that_block()
    {
        var info = Info(Element.F16, causal: false);
        const double bandwidth = 64e9, flops = 150e12;
        long c = info.MinimumTokensPerRank(bandwidth, flops, heads: 16, kvHeads: 4);
        double compute = 4.0 * c * c * 128 * 16 / flops, transfer = 2.0 * c * 128 * 4 * 2 / bandwidth;
        Assert.InRange(compute / transfer, 1.0, 1.01);
        Assert.Throws<ArgumentOutOfRangeException>(() => info.MinimumTokensPerRank(0, flops));
    }

    /// <summary>
    /// Info reports the blocking of the width the CPU fallback runs here (<see cref="CpuFeatures.Best"/>), as the
    /// runtime's block kernels have it: 6 query rows with the 32 registers of AVX-512, 4 with 16; 128 keys per step. A machine
    /// without AVX-512 (or run with DOTNET_PreferredVectorBitWidth=256) runs Vector256 and must not see Vector512's.
    /// </summary>
    [Fact]
    public void Cpu_blocking_is_that_of_the_width_this_machine_runs()
    {
        var info = F32CausalZigzag.Info;
        int qRows = CpuFeatures.Best == CpuIsa.Vector512 ? 6 : 4;
        Assert.Equal((qRows, 128), (info.CpuQRows, info.CpuKvRows));
        Assert.Contains($"CPU {qRows}×128 blocks", info.ToString());
    }

    [Fact]
    public void Cpu_blocking_is_listed_for_every_width()
    {
        var info = F32CausalZigzag.Info;
        Assert.Equal([CpuIsa.Vector512, CpuIsa.Vector256, CpuIsa.Vector128, CpuIsa.Scalar], info.CpuBlocking.Select(blocking => blocking.Isa));
        Assert.Equal(new CpuAttentionBlocking(CpuIsa.Vector512, 6, 128), info.CpuBlockingFor(CpuIsa.Vector512));
        Assert.Equal(new CpuAttentionBlocking(CpuIsa.Vector256, 4, 128), info.CpuBlockingFor(CpuIsa.Vector256));
        Assert.Equal(new CpuAttentionBlocking(CpuIsa.Scalar, 4, 128), info.CpuBlockingFor(CpuIsa.Scalar));
    }
}
