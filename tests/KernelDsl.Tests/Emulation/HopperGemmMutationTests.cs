using System;
using KernelDsl.Cuda;
using KernelDsl.Emulation;
using KernelDsl.Tests.Cuda;
using Xunit;
using Xunit.Abstractions;

namespace KernelDsl.Tests.Emulation;

/// <summary>
/// The emulator catches the faults of the generated sm_90a GEMM's pipeline (<see cref="Sm90aTwoConsumers"/>: two
/// consumer warpgroups, four stages, a persistent grid): each test seeds one into <c>CudaSourceSm90a</c> and runs it on
/// one and on two blocks over 3 × 2 tiles, so a block walks several tiles and the stage ring runs on across them, where
/// the unmutated text (<see cref="Unmutated_kernel_matches_float64_on_a_persistent_grid"/>) matches float64.
/// </summary>
public sealed class HopperGemmMutationTests(ITestOutputHelper output)
{
    private const int M = 300, N = 200, K = 320;  // 3 × 2 tiles of 128 × 128, 5 slices each, ragged in M and N
    private static readonly HopperGemmInfo Plan = Sm90aTwoConsumers.Info.Sm90a!;

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void Unmutated_kernel_matches_float64_on_a_persistent_grid(int blocks)
    {
        double error = Error(Sm90aTwoConsumers.CudaSourceSm90a, blocks);
        EmulatorReport report = Emulator.LastReport!;
        output.WriteLine($"{blocks} block(s): error {error:E2}, {report.Wgmma} wgmma, {report.Tma} TMA copies, {report.MbarrierWaits} mbarrier waits");
        Assert.True(error <= 1e-2 / 4, $"error {error}");  // bf16 output: within a rounding of the float64 result
        Assert.True(report.Wgmma > 0 && report.Tma > 0);
    }

    [Fact]
    public void Releasing_the_slice_still_in_flight_lets_the_producer_overwrite_a_wgmma_operand()
    {
        string mutated = Mutate(
            "if (kt > 0 && t == 0) mbarrier_arrive(&empty[(slice + STAGES - 1) % STAGES]);",
            "if (t == 0) mbarrier_arrive(&empty[s]);");
        var fault = Assert.Throws<EmulatorFaultException>(() => Error(mutated, 1));
        output.WriteLine(fault.Message);
        Assert.Equal(Plan.EntryPoint, fault.Kernel);
        Assert.Matches("overwrites shared offset \\d+, an operand of a wgmma|no arrival left in its phase", fault.Message);
    }

    [Fact]
    public void A_producer_waiting_on_the_wrong_parity_is_a_deadlock_not_a_hang()
    {
        string mutated = Mutate("mbarrier_wait(&empty[s], ((slice / STAGES) & 1) ^ 1);", "mbarrier_wait(&empty[s], (slice / STAGES) & 1);");
        var fault = Assert.Throws<EmulatorFaultException>(() => Error(mutated, 2));
        output.WriteLine(fault.Message);
        Assert.Contains("deadlock", fault.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_consumer_restarting_its_slice_count_per_tile_loses_the_phase_on_the_second_tile()
    {
        // The consumer's count starts again at every tile while the producer's runs on: from the second tile on the
        // consumer waits on the wrong stage and phase (5 slices a tile, 4 stages) and releases the wrong stages, so the
        // producer waits for a release that never comes.
        string mutated = Mutate(
            "grouped_tile(tile, tiles_m, tiles_n, tile_m, tile_n);\n        float acc",
            "grouped_tile(tile, tiles_m, tiles_n, tile_m, tile_n);\n        slice = 0;\n        float acc");
        var fault = Assert.Throws<EmulatorFaultException>(() => Error(mutated, 1));
        output.WriteLine(fault.Message);
        Assert.Contains("deadlock", fault.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_wrong_accumulator_row_gives_wrong_numbers()
    {
        string mutated = Mutate("thread_row + mb * 64 + 8 * ((v / 2) % 2)", "thread_row + mb * 64 + 8 * (v / 4 % 2)");
        Assert.True(Error(mutated, 2) > 1e-2);
    }

    private static string Mutate(string from, string to)
    {
        string source = Sm90aTwoConsumers.CudaSourceSm90a.Replace("\r\n", "\n", StringComparison.Ordinal);
        Assert.Contains(from, source);
        return source.Replace(from, to, StringComparison.Ordinal);
    }

    // Runs `source` as HopperGemmLaunch would, on `blocks` persistent blocks, and returns ‖C − ref‖ / ‖ref‖ against float64.
    private static double Error(string source, int blocks)
    {
        var random = new Random(11);
        float[] a = new float[M * K], b = new float[N * K];
        for (int i = 0; i < a.Length; i++) a[i] = (float)(BFloat16)(random.NextSingle() * 2 - 1);
        for (int i = 0; i < b.Length; i++) b[i] = (float)(BFloat16)(random.NextSingle() * 2 - 1);
        CudaDevice device = CudaDevice.Emulator;
        CudaFunction function = KernelCache.GetOrLoad(device, source, Plan.EntryPoint);
        using var stream = new CudaStream(device);
        using var deviceA = DeviceBuffers.Upload(device, EmulatedGemm.Convert<BFloat16>(a));
        using var deviceB = DeviceBuffers.Upload(device, EmulatedGemm.Convert<BFloat16>(b));
        using var deviceC = new DeviceBuffer<BFloat16>(M * N, device);
        deviceC.Fill((BFloat16)float.NaN);
        TensorMap aMap = TensorMap.Encode2D(device, deviceA.Pointer, Element.BF16, K, M, K * 2L, Plan.BoxK, Plan.TileM, Plan.Swizzle);
        TensorMap bMap = TensorMap.Encode2D(device, deviceB.Pointer, Element.BF16, K, N, K * 2L, Plan.BoxK, Plan.TileN, Plan.Swizzle);
        function.Launch(stream, (blocks, 1, 1), (Plan.Threads, 1, 1), Plan.SharedMemoryBytes,
            new KernelArguments().Add(aMap).Add(bMap).Add(deviceC).Add(M).Add(N).Add(K).Add(N).Add(1f).Add(0f));
        var c = new BFloat16[M * N];
        deviceC.CopyTo(c);
        double diff = 0, norm = 0;
        for (int i = 0; i < M; i++)
        {
            for (int j = 0; j < N; j++)
            {
                double sum = 0;
                for (int p = 0; p < K; p++) sum += (double)a[i * K + p] * b[j * K + p];
                double d = (float)c[i * N + j] - sum;
                diff += double.IsFinite(d) ? d * d : double.PositiveInfinity;
                norm += sum * sum;
            }
        }

        return Math.Sqrt(diff / norm);
    }
}
