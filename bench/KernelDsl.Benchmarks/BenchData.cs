using System;
using System.Diagnostics;
using System.Threading;

namespace KernelDsl.Benchmarks;

/// <summary>
/// Inputs and the sanity check of every suite's setup: before a case is timed, ours and the peer run once on the
/// same inputs and must agree, so that a figure is never that of a wrong answer. (The float64 references are the
/// tests' job; here the peer is the reference.)
/// </summary>
public static class BenchData
{
    /// <summary>
    /// Puts this thread and the process back to normal priority; every suite's setup calls it before any peer runs.
    /// BenchmarkDotNet raises both for the thread that runs the benchmarks. Threads created from that thread
    /// inherit its priority on Linux, so OpenBLAS's and ONNX Runtime's worker threads, started by the first call,
    /// ran above .NET's pool threads, which ours use; with 2 cores that took up to half of our time (SGEMM at
    /// n = 1024 read 0.56 of OpenBLAS as the first case of a run, 0.99 later in the same run; docs/PERFORMANCE_NOTES.md).
    /// </summary>
    public static void EqualFooting()
    {
        Thread.CurrentThread.Priority = ThreadPriority.Normal;
        using var process = Process.GetCurrentProcess();
        process.PriorityClass = ProcessPriorityClass.Normal;
    }

    /// <summary>Uniform values in [−1, 1) from a fixed seed.</summary>
    public static float[] Uniform(int count, int seed)
    {
        var random = new Random(seed);
        var values = new float[count];
        for (int i = 0; i < values.Length; i++)
        {
            values[i] = random.NextSingle() * 2 - 1;
        }
        return values;
    }

    /// <summary><see cref="Uniform"/> rounded to bf16.</summary>
    public static BFloat16[] UniformBFloat16(int count, int seed) => Array.ConvertAll(Uniform(count, seed), x => (BFloat16)x);

    /// <summary>Wall-clock time of one call (the ring suites' setup sizes the emulated link from it).</summary>
    public static TimeSpan Time(Action action)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        action();
        return clock.Elapsed;
    }

    /// <summary>Throws unless ‖ours − peer‖ / ‖peer‖ ≤ <paramref name="tolerance"/> and ours is finite.</summary>
    public static void Agree(string what, ReadOnlySpan<float> ours, ReadOnlySpan<float> peer, double tolerance)
    {
        double difference = 0, norm = 0;
        for (int i = 0; i < peer.Length; i++)
        {
            double d = (double)ours[i] - peer[i];
            difference += d * d;
            norm += (double)peer[i] * peer[i];
        }
        double error = Math.Sqrt(difference / norm);
        if (!(error <= tolerance))  // NaN fails too
        {
            throw new InvalidOperationException($"{what}: ours and the peer disagree, relative error {error:E2} > {tolerance:E0}.");
        }
    }
}
