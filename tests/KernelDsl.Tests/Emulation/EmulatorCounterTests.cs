using System;
using System.Collections.Concurrent;
using System.Globalization;
using System.Linq;
using System.Reflection;
using KernelDsl.Cuda;
using KernelDsl.Tests.Cuda;
using KernelDsl.Emulation;
using KernelDsl.Ring;
using Xunit;
using Xunit.Abstractions;

namespace KernelDsl.Tests.Emulation;

/// <summary>
/// What the emulator's counters say of every declared kernel at a shape its tiles divide (no ragged edge): shared
/// memory (plain accesses and ldmatrix) without bank conflicts, global loads fully coalesced, and a GEMM's stores in
/// whole sectors (half sectors with 16-bit output).
/// </summary>
public sealed class EmulatorCounterTests(ITestOutputHelper output)
{
    public static TheoryData<string> Gemms() => DeclaredKernels.Names<GemmInfo>();

    public static TheoryData<string> Attentions() => DeclaredKernels.Names<AttentionInfo>();

    [Theory]
    [MemberData(nameof(Gemms))]
    public void Gemm_is_conflict_free_and_coalesced(string kernel)
    {
        Type type = DeclaredKernels.Named(kernel);
        var info = (GemmInfo)DeclaredKernels.Info(type)!;
        int m = 2 * info.TileM, n = 2 * info.TileN, k = 4 * info.TileK;
        int rowsA = info.TransposeA ? k : m, colsA = info.TransposeA ? m : k;
        int rowsB = info.TransposeB ? n : k, colsB = info.TransposeB ? k : n;
        var random = new Random(3);
        float[] Values(int count) => Array.ConvertAll(new float[count], _ => random.NextSingle() - 0.5f);
        EmulatedGemm.Run(type, Values(rowsA * colsA), colsA, Values(rowsB * colsB), colsB, new float[m * n], n, m, n, k, Values(n), 1f, 0f);
        EmulatorReport report = Emulator.LastReport!;
        Check(report, string.Create(CultureInfo.InvariantCulture, $"{m}×{n}×{k}"));
        // A row's lanes store whole sectors: fp32 pairs fill them; 16-bit pairs fill half (staging C through shared
        // memory would close that), so 2 is the bound there.
        Assert.True(report.GlobalStoreSectorsPerIdeal <= (info.Output == Element.F32 ? 1.0 : 2.0), $"store sectors per ideal {report.GlobalStoreSectorsPerIdeal:F2}");
    }

    [Theory]
    [MemberData(nameof(Attentions))]
    public void Attention_step_is_conflict_free_and_coalesced(string kernel)
    {
        Type type = DeclaredKernels.Named(kernel);
        var info = (AttentionInfo)DeclaredKernels.Info(type)!;
        int d = info.HeadDim, tokens = 256, heads = 2;
        MethodInfo step = type.GetMethod("LaunchStep")!;
        MethodInfo run = typeof(EmulatorCounterTests).GetMethod(nameof(Step), BindingFlags.NonPublic | BindingFlags.Static)!
            .MakeGenericMethod(DeclaredKernels.ClrType(info.Element));
        var reports = LaunchedOnThisThread(() => EmulatedGemm.Invoke(run, null, [step, d, tokens, heads]));
        Check(reports.Single(report => report.Kernel == info.StepEntryPoint), $"S={tokens} heads={heads}");
    }

    /// <summary>
    /// The backward step's shared memory — swizzled K, V, Q, dO tiles, the padded dSᵀ buffer, the rows' L and D — is
    /// conflict-free, ldmatrix included. Global traffic is printed, not held to the ideal: dQ's atomic adds touch every
    /// other float of a row per instruction (the emulator counts them as a load and a store).
    /// </summary>
    [Theory]
    [MemberData(nameof(EmulatedAttentionBackwardTests.Kernels), MemberType = typeof(EmulatedAttentionBackwardTests))]
    public void Attention_backward_step_is_conflict_free(string kernel)
    {
        Type type = DeclaredKernels.Named(kernel);
        var info = (AttentionInfo)DeclaredKernels.Info(type)!;
        MethodInfo run = typeof(EmulatorCounterTests).GetMethod(nameof(BackwardStep), BindingFlags.NonPublic | BindingFlags.Static)!
            .MakeGenericMethod(DeclaredKernels.ClrType(info.Element));
        var reports = LaunchedOnThisThread(() => EmulatedGemm.Invoke(run, null, [type.GetMethod("LaunchBackwardStep")!, info.HeadDim, 200, 2]));
        EmulatorReport report = reports.Single(report => report.Kernel == info.Backward!.StepEntryPoint);
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"| {report.Kernel} | S=200 heads=2 | {report.SharedWavefronts}/{report.SharedIdealWavefronts} | {report.LdmatrixWavefronts}/{report.LdmatrixIdealWavefronts} | " +
            $"{report.GlobalLoadSectorsPerIdeal:F2} | {report.GlobalStoreSectorsPerIdeal:F2} | {report.Mma} | {report.Ldmatrix} |"));
        Assert.Equal(report.SharedIdealWavefronts, report.SharedWavefronts);
        Assert.Equal(report.LdmatrixIdealWavefronts, report.LdmatrixWavefronts);
    }

    private static void BackwardStep<T>(MethodInfo step, int d, int tokens, int heads)
        where T : unmanaged
    {
        CudaDevice device = CudaDevice.Emulator;
        var shard = SequenceShard.For(RingLayout.Contiguous, tokens, 1, 0);
        var random = new Random(6);
        T[] Values(int count) => Array.ConvertAll(new float[count], _ => EmulatedGemm.FromFloat<T>(random.NextSingle() - 0.5f));
        using var stream = new CudaStream(device);
        using var q = DeviceBuffers.Upload(device, Values(heads * tokens * d));
        using var k = DeviceBuffers.Upload(device, Values(heads * tokens * d));
        using var v = DeviceBuffers.Upload(device, Values(heads * tokens * d));
        using var dO = DeviceBuffers.Upload(device, Values(heads * tokens * d));
        using var lse = DeviceBuffers.Upload(device, Array.ConvertAll(new float[heads * tokens], _ => 3f + random.NextSingle()));
        using var delta = DeviceBuffers.Upload(device, Array.ConvertAll(new float[heads * tokens], _ => random.NextSingle() - 0.5f));
        using var dQ = new DeviceBuffer<float>(heads * tokens * d, device);
        using var dK = new DeviceBuffer<float>(heads * tokens * d, device);
        using var dV = new DeviceBuffer<float>(heads * tokens * d, device);
        dQ.Fill(0f);
        dK.Fill(0f);
        dV.Fill(0f);
        EmulatedGemm.Invoke(step, null, [stream, q, k, v, dO, lse, delta, dQ, dK, dV, heads, heads, tokens, tokens, shard, shard]);
    }

    /// <summary>The reports of the launches <paramref name="run"/> makes: launches run on the calling thread, and other tests' (other threads) are not its.</summary>
    private static ConcurrentBag<EmulatorReport> LaunchedOnThisThread(Action run)
    {
        var reports = new ConcurrentBag<EmulatorReport>();
        int thread = Environment.CurrentManagedThreadId;
        void Collect(EmulatorReport report)
        {
            if (Environment.CurrentManagedThreadId == thread)
            {
                reports.Add(report);
            }
        }

        Emulator.Launched += Collect;
        try
        {
            run();
        }
        finally
        {
            Emulator.Launched -= Collect;
        }
        return reports;
    }

    private void Check(EmulatorReport report, string shape)
    {
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"| {report.Kernel} | {shape} | {report.SharedWavefronts}/{report.SharedIdealWavefronts} | {report.LdmatrixWavefronts}/{report.LdmatrixIdealWavefronts} | " +
            $"{report.GlobalLoadSectorsPerIdeal:F2} | {report.GlobalStoreSectorsPerIdeal:F2} | {report.Mma} | {report.CopyAsync} |"));
        Assert.Equal(report.SharedIdealWavefronts, report.SharedWavefronts);
        Assert.Equal(report.LdmatrixIdealWavefronts, report.LdmatrixWavefronts);
        Assert.Equal(report.GlobalLoadIdealSectors, report.GlobalLoadSectors);
    }

    private static void Step<T>(MethodInfo step, int d, int tokens, int heads)
        where T : unmanaged
    {
        CudaDevice device = CudaDevice.Emulator;
        var shard = SequenceShard.For(RingLayout.Contiguous, tokens, 1, 0);
        var random = new Random(5);
        T[] Values(int count) => Array.ConvertAll(new float[count], _ => EmulatedGemm.FromFloat<T>(random.NextSingle() - 0.5f));
        using var stream = new CudaStream(device);
        using var q = DeviceBuffers.Upload(device, Values(heads * tokens * d));
        using var k = DeviceBuffers.Upload(device, Values(heads * tokens * d));
        using var v = DeviceBuffers.Upload(device, Values(heads * tokens * d));
        using var oRun = new DeviceBuffer<float>(heads * tokens * d, device);
        using var lRun = new DeviceBuffer<float>(heads * tokens, device);
        AttentionLaunch.InitializeRunningState(oRun, lRun);
        EmulatedGemm.Invoke(step, null, [stream, q, k, v, oRun, lRun, heads, heads, tokens, tokens, shard, shard]);
    }
}
