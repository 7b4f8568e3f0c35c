using System;

namespace KernelDsl.Benchmarks;

/// <summary>
/// A suite's parameter: one case it measures. The report turns the case's median time into GFLOP/s with
/// <see cref="Flops"/> and checks each ratio ours/peer against <see cref="Target"/>; <c>ToString</c> is its label.
/// BenchmarkDotNet runs, and the report lists, a suite's cases in the order of <see cref="IComparable.CompareTo"/>:
/// by size, each record says how.
/// </summary>
public interface IWorkload : IComparable
{
    /// <summary>Useful floating-point operations of one call (DESIGN.md), 0 where GFLOP/s means nothing.</summary>
    double Flops { get; }

    /// <summary>The ratio <paramref name="ours"/>/<paramref name="peer"/> (benchmark method names) issue #6 asks of this case, or null where it sets none.</summary>
    double? Target(string ours, string peer);
}
