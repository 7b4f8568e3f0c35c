using System;
using System.Globalization;
using KernelDsl.Cuda;
using KernelDsl.Emulation;
using Xunit;
using Xunit.Abstractions;

namespace KernelDsl.Generator.Tests.Hopper;

/// <summary>
/// The emulator's sm_90a model (mbarriers, TMA tensor copies, wgmma) runs <see cref="TmaWgmmaKernel"/> on ragged
/// shapes against a float64 reference in every swizzle mode, C poisoned with NaN (padding included) so every element
/// must be written and nothing outside the matrix; a TMA box's shared layout is checked against the CUDA
/// programming guide's swizzle tables; and each rule of the model catches the kernel that breaks it.
/// </summary>
public sealed class EmulatedHopperTests(ITestOutputHelper output)
{
    [Theory]
    [MemberData(nameof(TmaWgmmaKernel.Swizzles), MemberType = typeof(TmaWgmmaKernel))]
    public void Tma_and_wgmma_gemm_matches_the_float64_reference(TensorMapSwizzle swizzle)
    {
        foreach (var (m, n, k) in new[] { (64, 64, 64), (100, 72, 200), (1, 9, 8) })
        {
            var run = Gemm.Run(swizzle, TmaWgmmaKernel.Mutation.None, m, n, k);
            double error = run.RelativeError();
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{swizzle} {m}x{n}x{k}: relative error {error:E2}; {run.Report!.Wgmma} wgmma, {run.Report.Tma} TMA boxes ({run.Report.TmaBytes} B), {run.Report.MbarrierWaits} mbarrier waits"));
            Assert.True(error < 1e-6, $"{swizzle} {m}x{n}x{k}: relative error {error:E2}");
            run.AssertPaddingUntouched();
            int tiles = (m + 63) / 64 * ((n + 63) / 64), kTiles = (k + 63) / 64;
            Assert.Equal((ulong)(tiles * kTiles * 4), run.Report.Wgmma);
        }
    }

    [Theory]
    [MemberData(nameof(TmaWgmmaKernel.Swizzles), MemberType = typeof(TmaWgmmaKernel))]
    public void A_descriptor_whose_swizzle_differs_from_the_copies_gives_wrong_products(TensorMapSwizzle swizzle)
    {
        var run = Gemm.Run(swizzle, TmaWgmmaKernel.Mutation.DescriptorSwizzleDiffers, 64, 64, 64);
        Assert.True(run.RelativeError() > 1e-2, $"relative error {run.RelativeError():E2}");
    }

    [Fact]
    public void Accumulators_read_before_wgmma_wait_are_stale()
    {
        var run = Gemm.Run(TensorMapSwizzle.Bytes128, TmaWgmmaKernel.Mutation.ReadsAccumulatorsBeforeWait, 64, 64, 128);
        Assert.True(run.RelativeError() > 1e-2, $"relative error {run.RelativeError():E2}");
    }

    [Fact]
    public void A_consumer_waiting_for_the_wrong_phase_reads_operands_before_they_land()
    {
        var fault = Assert.Throws<EmulatorFaultException>(() => Gemm.Run(TensorMapSwizzle.Bytes128, TmaWgmmaKernel.Mutation.ConsumerWaitsWrongParity, 64, 64, 128));
        output.WriteLine(fault.Message);
        Assert.Contains("before the TMA copy issued into it", fault.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Wgmma_without_a_fence_is_an_error()
    {
        var fault = Assert.Throws<EmulatorFaultException>(() => Gemm.Run(TensorMapSwizzle.Bytes128, TmaWgmmaKernel.Mutation.NoFence, 64, 64, 64));
        output.WriteLine(fault.Message);
        Assert.Contains("without a wgmma.fence", fault.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_producer_that_refills_a_stage_before_it_is_released_is_caught()
    {
        var fault = Assert.Throws<EmulatorFaultException>(() => Gemm.Run(TensorMapSwizzle.Bytes128, TmaWgmmaKernel.Mutation.ProducerSkipsEmptyWait, 64, 64, 512));
        output.WriteLine(fault.Message);
        // Refilled early, a stage's full barrier gets a second arrival in one phase, or its bytes are overwritten while
        // a wgmma still reads them or before the previous copy landed: whichever the schedule meets first.
        Assert.Matches("no arrival left in its phase|overwrites shared offset \\d+, an operand of a wgmma|writes shared offset \\d+ while the TMA copy", fault.Message);
    }

    [Fact]
    public void A_phase_waiting_for_bytes_that_never_come_is_a_deadlock_not_a_hang()
    {
        var fault = Assert.Throws<EmulatorFaultException>(() => Gemm.Run(TensorMapSwizzle.Bytes128, TmaWgmmaKernel.Mutation.ExpectsTooManyBytes, 64, 64, 64));
        output.WriteLine(fault.Message);
        Assert.Contains("deadlock", fault.Message, StringComparison.Ordinal);
        Assert.Contains("16 transaction bytes still to come", fault.Message, StringComparison.Ordinal);
    }

    /// <summary>One run of the kernel on the emulator: bf16 operands (exact in bf16) and the float64 reference.</summary>
    private sealed class Gemm
    {
        private int m, n, k, ldc;
        private float[] a = [], b = [], c = [];

        public EmulatorReport? Report { get; private set; }

        public static Gemm Run(TensorMapSwizzle swizzle, TmaWgmmaKernel.Mutation mutation, int m, int n, int k)
        {
            int lda = k + 8, ldb = k + 16, ldc = n + 3;  // rows padded (16-byte multiples for the maps); C's padding must stay NaN
            var random = new Random(m * 1_000_003 + n * 1_009 + k);
            var run = new Gemm { m = m, n = n, k = k, ldc = ldc, a = Operand(random, m, lda, k), b = Operand(random, n, ldb, k) };
            CudaDevice device = CudaDevice.Emulator;
            using var aBuffer = new DeviceBuffer<ushort>(m * lda, device);
            using var bBuffer = new DeviceBuffer<ushort>(n * ldb, device);
            using var cBuffer = new DeviceBuffer<float>(m * ldc, device);
            aBuffer.CopyFrom(Bits(run.a));
            bBuffer.CopyFrom(Bits(run.b));
            cBuffer.CopyFrom(Filled(m * ldc, float.NaN));
            int boxK = TmaWgmmaKernel.BoxK(swizzle);
            TensorMap aMap = TensorMap.Encode2D(device, aBuffer.Pointer, Element.BF16, k, m, lda * 2L, boxK, TmaWgmmaKernel.TileM, swizzle);
            TensorMap bMap = TensorMap.Encode2D(device, bBuffer.Pointer, Element.BF16, k, n, ldb * 2L, boxK, TmaWgmmaKernel.TileN, swizzle);
            using var stream = new CudaStream(device);
            CudaFunction function = KernelCache.GetOrLoad(device, TmaWgmmaKernel.Source(swizzle, mutation), TmaWgmmaKernel.Entry);
            var arguments = new KernelArguments().Add(aMap).Add(bMap).Add(cBuffer).Add(m).Add(n).Add(k).Add(ldc);
            var grid = ((n + TmaWgmmaKernel.TileN - 1) / TmaWgmmaKernel.TileN, (m + TmaWgmmaKernel.TileM - 1) / TmaWgmmaKernel.TileM, 1);
            function.Launch(stream, grid, (TmaWgmmaKernel.Threads, 1, 1), TmaWgmmaKernel.SharedBytes, arguments);
            stream.Synchronize();
            run.Report = Emulator.LastReport;
            run.c = new float[m * ldc];
            cBuffer.CopyTo(run.c);
            return run;
        }

        public double RelativeError()
        {
            double diff = 0, norm = 0;
            int lda = k + 8, ldb = k + 16;
            for (int i = 0; i < m; i++)
            {
                for (int j = 0; j < n; j++)
                {
                    double sum = 0;
                    for (int p = 0; p < k; p++)
                    {
                        sum += (double)a[i * lda + p] * b[j * ldb + p];
                    }

                    double got = c[i * ldc + j];
                    diff += double.IsFinite(got) ? (got - sum) * (got - sum) : double.PositiveInfinity;
                    norm += sum * sum;
                }
            }

            return Math.Sqrt(diff / Math.Max(norm, double.Epsilon));
        }

        public void AssertPaddingUntouched()
        {
            for (int i = 0; i < m; i++)
            {
                for (int j = n; j < ldc; j++)
                {
                    Assert.True(float.IsNaN(c[i * ldc + j]), $"C[{i},{j}] (padding) was written");
                }
            }
        }

        // Values in [-1, 1) rounded to bf16 (the top 16 bits of an fp32), so the reference sees what the kernel reads;
        // the row padding past K is NaN, which poisons any product a box reads past the tensor map's width.
        private static float[] Operand(Random random, int rows, int ld, int k)
        {
            var values = new float[rows * ld];
            for (int i = 0; i < values.Length; i++)
            {
                float x = i % ld < k ? (float)(random.NextDouble() * 2 - 1) : float.NaN;
                values[i] = BitConverter.UInt32BitsToSingle(BitConverter.SingleToUInt32Bits(x) & 0xFFFF0000u);
            }

            return values;
        }

        private static ushort[] Bits(float[] values) => Array.ConvertAll(values, v => (ushort)(BitConverter.SingleToUInt32Bits(v) >> 16));

        private static float[] Filled(int count, float value)
        {
            var values = new float[count];
            Array.Fill(values, value);
            return values;
        }
    }
}
