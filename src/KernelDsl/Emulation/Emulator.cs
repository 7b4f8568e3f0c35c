using System;
using System.Threading;

namespace KernelDsl.Emulation;

/// <summary>
/// Settings and results of <see cref="Cuda.CudaDevice.Emulator"/>, the CPU emulator that runs generated CUDA C with
/// CUDA's execution model. A launch runs to completion on the calling thread, so <see cref="LastReport"/> is that
/// thread's last launch.
/// </summary>
public static class Emulator
{
    [ThreadStatic]
    private static EmulatorReport? lastReport;

    private static long seed = 1;

    /// <summary>Raised on the launching thread after every emulated launch, faulted ones included, with its report.</summary>
    public static event Action<EmulatorReport>? Launched;

    /// <summary>The report of the calling thread's last emulated launch; null before the first.</summary>
    public static EmulatorReport? LastReport => lastReport;

    internal static void Report(EmulatorReport report)
    {
        lastReport = report;
        Launched?.Invoke(report);
    }

    /// <summary>
    /// Seeds the order in which blocks run and fibers resume after each barrier. The same seed gives the same
    /// order, so a fault found with one seed reproduces; change it to explore other orders.
    /// </summary>
    public static ulong Seed
    {
        get => (ulong)Interlocked.Read(ref seed);
        set => Interlocked.Exchange(ref seed, (long)value);
    }
}
