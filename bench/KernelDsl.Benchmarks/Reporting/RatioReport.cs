using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Text;

namespace KernelDsl.Benchmarks;

/// <summary>
/// The tables a run prints and docs/BENCHMARKS.md quotes, in Markdown: per suite, every pair ours/peer with both
/// speeds, the ratio of medians with the spread of its quartiles, and the target; for the generator, time and
/// allocations per build and per kernel.
/// </summary>
public static class RatioReport
{
    /// <summary>All tables, one section per suite in the order the suites ran.</summary>
    public static string Markdown(IReadOnlyList<CaseResult> results)
    {
        var text = new StringBuilder();
        foreach (var suite in results.Select(r => r.Suite).Distinct())
        {
            var cases = results.Where(r => Equals(r.Suite, suite)).ToArray();
            text.Append(CultureInfo.InvariantCulture, $"### {suite.Title}\n\n{suite.Description}\n\n");
            text.Append(cases.All(r => r.Workload.Flops == 0) ? CostTable(cases) : RatioTable(Ratio.Pair(cases)));
            text.Append('\n');
        }
        return text.ToString();
    }

    private static string RatioTable(IReadOnlyList<Ratio> ratios)
    {
        var text = new StringBuilder("| case | ours | peer | ours GFLOP/s | peer GFLOP/s | ours / peer (quartile spread) | target |\n| --- | --- | --- | --- | --- | --- | --- |\n");
        foreach (var ratio in ratios)
        {
            string target = ratio.Target is double goal ? $"≥ {goal:0.00}: {(ratio.Value >= goal ? "met" : "**not met**")} ({ratio.Value:0.000})" : "";
            text.Append(CultureInfo.InvariantCulture,
                $"| {ratio.Ours.Workload} | {ratio.Ours.Method} | {ratio.Peer.Method} | {ratio.Ours.Gflops:0.0} | {ratio.Peer.Gflops:0.0} | **{ratio.Value:0.00}** ({ratio.Low:0.00}–{ratio.High:0.00}) | {target} |\n");
        }
        return text.ToString();
    }

    private static string CostTable(IReadOnlyList<CaseResult> cases)
    {
        var text = new StringBuilder("| case | run | median (quartiles) | per kernel | allocated | allocated per kernel |\n| --- | --- | --- | --- | --- | --- |\n");
        foreach (var result in cases)
        {
            int kernels = result.Workload is KernelCount count ? count.Kernels : 1;
            text.Append(CultureInfo.InvariantCulture,
                $"| {result.Workload} | {result.Method} | {result.Median / 1e6:0.00} ms ({result.Q1 / 1e6:0.00}–{result.Q3 / 1e6:0.00}) | {result.Median / 1e6 / kernels:0.000} ms | {result.Allocated / 1048576.0:0.0} MiB | {result.Allocated / 1024.0 / kernels:0} KiB |\n");
        }
        return text.ToString();
    }
}
