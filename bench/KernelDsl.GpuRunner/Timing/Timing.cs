using System;
using System.Collections.Generic;

namespace KernelDsl.GpuRunner;

internal static class Timing
{
    /// <summary>
    /// Warm-up, then <paramref name="samples"/> samples of back-to-back launches (as many as make a sample last about
    /// <paramref name="targetSampleMs"/>, at least one), each between two events; per-launch statistics.
    /// </summary>
    public static TimingResult Measure(Action launch, IGpuTimer timer, int samples, double targetSampleMs = 5, int warmup = 3)
    {
        for (int i = 0; i < warmup; i++)
        {
            launch();
        }
        timer.Start();
        launch();
        timer.Stop();
        double single = Math.Max(timer.ElapsedMilliseconds(), 1e-3);
        int inner = (int)Math.Clamp(Math.Ceiling(targetSampleMs / single), 1, 200);

        var perLaunch = new double[samples];
        for (int s = 0; s < samples; s++)
        {
            timer.Start();
            for (int i = 0; i < inner; i++)
            {
                launch();
            }
            timer.Stop();
            perLaunch[s] = timer.ElapsedMilliseconds() / inner;
        }
        Array.Sort(perLaunch);
        return new TimingResult(
            Quantile(perLaunch, 0.5), perLaunch[0], perLaunch[^1], Quantile(perLaunch, 0.25), Quantile(perLaunch, 0.75), samples, inner);
    }

    private static double Quantile(IReadOnlyList<double> sorted, double q)
    {
        double position = q * (sorted.Count - 1);
        int low = (int)Math.Floor(position);
        int high = Math.Min(low + 1, sorted.Count - 1);
        return sorted[low] + (sorted[high] - sorted[low]) * (position - low);
    }
}
