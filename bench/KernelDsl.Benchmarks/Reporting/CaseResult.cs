using System.Collections.Generic;
using System.Linq;
using System.Reflection;
using BenchmarkDotNet.Reports;

namespace KernelDsl.Benchmarks;

/// <summary>One measured case of one method: its median time and quartiles (ns), and what it allocated per call.</summary>
/// <param name="Suite">The suite's <see cref="SuiteAttribute"/>.</param>
public sealed record CaseResult(SuiteAttribute Suite, IWorkload Workload, string Method, string Role, double Median, double Q1, double Q3, long Allocated)
{
    /// <summary>GFLOP/s at the median time.</summary>
    public double Gflops => Workload.Flops / Median;

    /// <summary>
    /// Of several rounds of the same cases, each (suite, case, method)'s round with the lowest median, in first-seen
    /// order. Applied to ours and the peers alike: on a shared machine, outside load only ever slows a method down.
    /// </summary>
    public static IReadOnlyList<CaseResult> Fastest(IEnumerable<CaseResult> rounds) =>
        [.. rounds.GroupBy(r => (r.Suite.Title, r.Workload, r.Method)).Select(group => group.MinBy(r => r.Median)!)];

    /// <summary>Every case of <paramref name="summaries"/> that produced statistics: suites in the order they ran, cases by size.</summary>
    public static IReadOnlyList<CaseResult> From(IEnumerable<Summary> summaries) =>
        [.. from summary in summaries
            from report in summary.Reports.OrderBy(r => (IWorkload)r.BenchmarkCase.Parameters.Items.Single().Value)
            let statistics = report.ResultStatistics
            where statistics is not null
            let benchmark = report.BenchmarkCase
            select new CaseResult(
                Suite: benchmark.Descriptor.Type.GetCustomAttribute<SuiteAttribute>()
                    ?? new SuiteAttribute(benchmark.Descriptor.Type.Name, ""),
                Workload: (IWorkload)benchmark.Parameters.Items.Single().Value,
                Method: benchmark.Descriptor.WorkloadMethod.Name,
                Role: benchmark.Descriptor.Categories.Contains(Benchmarks.Role.Peer) ? Benchmarks.Role.Peer : Benchmarks.Role.Ours,
                Median: statistics.Median,
                Q1: statistics.Q1,
                Q3: statistics.Q3,
                Allocated: report.GcStats.GetBytesAllocatedPerOperation(benchmark) ?? 0)];
}
