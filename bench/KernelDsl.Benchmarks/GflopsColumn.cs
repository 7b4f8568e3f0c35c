using System.Linq;
using System.Globalization;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;

namespace KernelDsl.Benchmarks;

/// <summary>GFLOP/s = 2·n³ / median time, for benchmarks with a square size parameter <c>N</c>.</summary>
public sealed class GflopsColumn : IColumn
{
    /// <inheritdoc />
    public string Id => nameof(GflopsColumn);

    /// <inheritdoc />
    public string ColumnName => "GFLOP/s";

    /// <inheritdoc />
    public bool AlwaysShow => true;

    /// <inheritdoc />
    public ColumnCategory Category => ColumnCategory.Custom;

    /// <inheritdoc />
    public int PriorityInCategory => 0;

    /// <inheritdoc />
    public bool IsNumeric => true;

    /// <inheritdoc />
    public UnitType UnitType => UnitType.Dimensionless;

    /// <inheritdoc />
    public string Legend => "Useful floating-point operations per second: 2·N³ / median time, in 10⁹";

    /// <inheritdoc />
    public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;

    /// <inheritdoc />
    public bool IsAvailable(Summary summary) => true;

    /// <inheritdoc />
    public string GetValue(Summary summary, BenchmarkCase benchmarkCase) => GetValue(summary, benchmarkCase, SummaryStyle.Default);

    /// <inheritdoc />
    public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style)
    {
        var statistics = summary[benchmarkCase]?.ResultStatistics;
        var size = benchmarkCase.Parameters.Items.FirstOrDefault(p => p.Name == "N")?.Value;
        if (statistics is null || size is not int n || statistics.Median <= 0)
        {
            return "NA";
        }
        double flops = 2.0 * n * n * n;
        double seconds = statistics.Median / 1e9;  // BenchmarkDotNet reports nanoseconds
        return (flops / seconds / 1e9).ToString("0.0", CultureInfo.InvariantCulture);
    }

    /// <inheritdoc />
    public override string ToString() => ColumnName;
}
