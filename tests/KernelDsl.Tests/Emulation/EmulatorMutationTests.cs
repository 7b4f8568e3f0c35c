using System;
using KernelDsl.Cuda;
using KernelDsl.Tests.Cuda;
using KernelDsl.Emulation;
using KernelDsl.Tests.Cpu;
using Xunit;
using Xunit.Abstractions;

namespace KernelDsl.Tests.Emulation;

/// <summary>
/// The emulator can fail: each test seeds one fault a kernel author could make into the generated CUDA C of a
/// tensor-core GEMM (fp16 in, fp32 out, 64×64×16 tile, 2-stage cp.async pipeline, swizzled ldmatrix) and shows it
/// caught, as an <see cref="EmulatorFaultException"/> naming the fault or as a result far from float64, where the
/// unmutated text (<see cref="Unmutated_kernel_passes"/>) passes the same check.
/// </summary>
public sealed class EmulatorMutationTests(ITestOutputHelper output)
{
    private const int M = 127, N = 129, K = 64, Ldb = 136;  // B's rows 16-byte aligned, as Launch requires

    private static readonly GemmInfo Info = HalfToFloat.Info;

    [Fact]
    public void Unmutated_kernel_passes()
    {
        Assert.True(Error(HalfToFloat.CudaSource) <= GemmCheck.Tolerance);
        EmulatorReport report = Emulator.LastReport!;
        output.WriteLine($"{report.Kernel}: {report.Mma} mma, {report.Ldmatrix} ldmatrix, conflict factor {report.LdmatrixConflictFactor:F2}");
        Assert.Equal(1.0, report.LdmatrixConflictFactor);
        Assert.True(report.Mma > 0 && report.Ldmatrix > 0 && report.CopyAsync > 0);
    }

    [Fact]
    public void A_wrong_fragment_index_gives_wrong_numbers()
    {
        string mutated = Mutate("b[j][1] = pair[1]; b[j + 1][0] = pair[2];", "b[j][1] = pair[2]; b[j + 1][0] = pair[1];");
        Assert.True(Error(mutated) > 1e-2);
    }

    [Fact]
    public void A_removed_syncthreads_is_a_race()
    {
        string mutated = Mutate("        __syncthreads();  // everyone is done with this stage", "        // everyone is done with this stage");
        Fault(mutated, "race on shared offset");
    }

    [Fact]
    public void A_wait_group_one_too_shallow_reads_an_unfinished_copy()
    {
        string mutated = Mutate("copy_async_wait<STAGES - 1>();", "copy_async_wait<STAGES>();");
        Fault(mutated, "before the cp.async issued into it");
    }

    [Fact]
    public void An_off_by_one_tail_predicate_writes_out_of_bounds()
    {
        string mutated = Mutate("if (row >= M) continue;", "if (row > M) continue;");
        Fault(mutated, "out-of-bounds write");
    }

    [Fact]
    public void A_swizzle_the_reads_do_not_share_gives_wrong_numbers()
    {
        string mutated = Mutate(
            "return a_offset(mn + (q % 2) * 8 + r, (k + (q / 2) * 8) / 8);",
            "return ((mn + (q % 2) * 8 + r) * A_CHUNKS + (k + (q / 2) * 8) / 8) * 8;");
        Assert.True(Error(mutated) > 1e-2);
    }

    [Fact]
    public void A_swizzle_removed_on_both_sides_shows_as_bank_conflicts()
    {
        string mutated = Mutate("(chunk ^ ((row / B_ROW_GROUP) % B_SWIZZLE))", "chunk");
        Assert.True(Error(mutated) <= GemmCheck.Tolerance);
        EmulatorReport report = Emulator.LastReport!;
        output.WriteLine($"unswizzled B: ldmatrix conflict factor {report.LdmatrixConflictFactor:F2}");
        Assert.True(report.LdmatrixConflictFactor >= 2, $"conflict factor {report.LdmatrixConflictFactor}");
    }

    private static string Mutate(string from, string to)
    {
        Assert.Contains(from, HalfToFloat.CudaSource);
        return HalfToFloat.CudaSource.Replace(from, to, StringComparison.Ordinal);
    }

    private static void Fault(string source, string expected)
    {
        var fault = Assert.Throws<EmulatorFaultException>(() => Error(source));
        Assert.Equal(Info.EntryPoint, fault.Kernel);
        Assert.Contains(expected, fault.Message);
        Assert.Contains(Info.EntryPoint, fault.Message);
    }

    // Runs `source` on the emulator as the generated Launch would and returns ‖C − ref‖ / ‖ref‖ (float64 reference).
    private static double Error(string source)
    {
        var random = new Random(7);
        float[] a = new float[M * K], b = new float[K * Ldb];
        for (int i = 0; i < a.Length; i++) a[i] = (float)(Half)(random.NextSingle() * 2 - 1);
        for (int i = 0; i < b.Length; i++) b[i] = (float)(Half)(random.NextSingle() * 2 - 1);
        CudaDevice device = CudaDevice.Emulator;
        CudaFunction function = KernelCache.GetOrLoad(device, source, Info.EntryPoint);
        using var stream = new CudaStream(device);
        using var deviceA = DeviceBuffers.Upload(device, EmulatedGemm.Convert<Half>(a));
        using var deviceB = DeviceBuffers.Upload(device, EmulatedGemm.Convert<Half>(b));
        using var deviceC = new DeviceBuffer<float>(M * N, device);
        deviceC.Fill(float.NaN);
        var (x, y) = Info.GridFor(M, N);
        function.Launch(stream, (x, y, 1), (Info.Threads, 1, 1), Info.SharedMemoryBytes,
            new KernelArguments().Add(deviceA).Add(deviceB).Add(deviceC).Add(M).Add(N).Add(K).Add(K).Add(Ldb).Add(N).Add(1f).Add(0f));
        float[] c = new float[M * N];
        deviceC.CopyTo(c);
        double diff = 0, norm = 0;
        for (int i = 0; i < M; i++)
        {
            for (int j = 0; j < N; j++)
            {
                double sum = 0;
                for (int p = 0; p < K; p++) sum += (double)a[i * K + p] * b[p * Ldb + j];
                double d = c[i * N + j] - sum;
                diff += double.IsFinite(d) ? d * d : double.PositiveInfinity;
                norm += sum * sum;
            }
        }

        return Math.Sqrt(diff / norm);
    }
}
