using System.Linq;
using Xunit;

namespace KernelDsl.Benchmarks.Tests;

/// <summary>The report pairs each of ours with each peer of the same suite and case, and divides the right way.</summary>
public sealed class RatioReportTests
{
    // Each case gets its own attribute instance, as reflection hands them out.
    private static SuiteAttribute Gemm() => new("SGEMM", "test suite");

    private static CaseResult Case(string method, string role, GemmShape shape, double median) =>
        new(Gemm(), shape, method, role, median, median * 0.9, median * 1.1, 0);

    [Fact]
    public void PairsOursWithThePeerOfTheSameCaseOnly()
    {
        var small = GemmShape.Square(256);
        var large = GemmShape.Square(1024);
        CaseResult[] results =
        [
            Case("KernelDsl", Role.Ours, small, 2.0), Case("OpenBlas", Role.Peer, small, 1.0),
            Case("KernelDsl", Role.Ours, large, 10.0), Case("OpenBlas", Role.Peer, large, 12.0),
        ];

        var ratios = Ratio.Pair(results);

        Assert.Equal(2, ratios.Count);
        Assert.Equal(0.5, ratios[0].Value, 12);    // peer twice as fast: ours is half its speed
        Assert.Equal(1.2, ratios[1].Value, 12);
        Assert.Equal(12 * 0.9 / (10 * 1.1), ratios[1].Low, 12);   // fast peer (its Q1), slow ours (our Q3)
        Assert.Equal(0.8, ratios[0].Target);       // n = 256
        Assert.Equal(0.9, ratios[1].Target);       // n ≥ 1024
    }

    [Fact]
    public void TheTableSaysWhetherEachTargetIsMet()
    {
        var shape = GemmShape.Square(1024);
        string table = RatioReport.Markdown([Case("KernelDsl", Role.Ours, shape, 10e6), Case("OpenBlas", Role.Peer, shape, 8.5e6)]);  // 10 ms and 8.5 ms, in ns

        Assert.Contains("### SGEMM", table);
        Assert.Contains("| 1024³ | KernelDsl | OpenBlas | 214.7 | 252.6 | **0.85** (0.70–1.04) | ≥ 0.90: **not met** (0.850) |", table);
    }

    [Fact]
    public void KeepsEachMethodsFasterRound()
    {
        var shape = GemmShape.Square(512);
        CaseResult[] rounds =
        [
            Case("KernelDsl", Role.Ours, shape, 3.0), Case("OpenBlas", Role.Peer, shape, 1.0),
            Case("KernelDsl", Role.Ours, shape, 2.0), Case("OpenBlas", Role.Peer, shape, 1.5),
        ];

        var fastest = CaseResult.Fastest(rounds);

        Assert.Equal([("KernelDsl", 2.0), ("OpenBlas", 1.0)], fastest.Select(r => (r.Method, r.Median)));
    }
}
