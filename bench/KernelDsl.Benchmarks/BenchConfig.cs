using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Toolchains.InProcess.Emit;
using Perfolizer.Horology;

namespace KernelDsl.Benchmarks;

/// <summary>
/// The one configuration every suite runs with: in this process (ours and the peer share it, and no project is
/// built per case), iterations of about 250 ms, 5 of them in a quick run and 9 in a full one, after 3 or 4 warm-up
/// iterations; the figures quoted are medians with their quartiles. Each suite's setup resets the priorities this
/// job raises (<see cref="BenchData.EqualFooting"/>).
/// </summary>
public static class BenchConfig
{
    /// <summary>BenchmarkDotNet's defaults (loggers, exporters, analysers) with this job and the quartile columns.</summary>
    public static IConfig Create(bool quick) => ManualConfig.Create(DefaultConfig.Instance)
        .AddJob(Job.Default
            .WithToolchain(InProcessEmitToolchain.Instance)
            .WithWarmupCount(quick ? 3 : 4)
            .WithIterationCount(quick ? 5 : 9)
            .WithIterationTime(TimeInterval.FromMilliseconds(250)))
        .AddColumn(StatisticColumn.Median, StatisticColumn.Q1, StatisticColumn.Q3)
        .WithOptions(ConfigOptions.DisableLogFile);
}
