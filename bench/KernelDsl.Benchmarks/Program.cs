using System;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using BenchmarkDotNet.Running;

namespace KernelDsl.Benchmarks;

/// <summary>
/// Entry point: <c>[quick|full] [BenchmarkDotNet arguments]</c>. <c>quick</c> (the default) runs a few cases of every
/// suite and prints the ratio table; <c>full</c> runs every case in two rounds, keeps each method's faster round and,
/// when no suite was filtered out, rewrites the generated part of docs/BENCHMARKS.md and docs/plots/. Further arguments go to BenchmarkDotNet
/// (e.g. <c>quick --filter '*Attention*'</c>).
/// </summary>
public static class Program
{
    private static readonly Type[] Suites =
    [
        typeof(SgemmBenchmarks), typeof(HalfGemmBenchmarks), typeof(AttentionBenchmarks), typeof(AttentionBackwardBenchmarks),
        typeof(RingOverlapBenchmarks), typeof(RingBackwardOverlapBenchmarks), typeof(GeneratorBenchmarks),
    ];

    /// <summary>Runs the mode or suites the arguments select; exit code 1 if a case failed.</summary>
    public static int Main(string[] args)
    {
        CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;
        if (OpenBlasCore.RerunIfGeneric(args) is int rerunExitCode)
        {
            return rerunExitCode;
        }
        string mode = args.Length > 0 && args[0] is "quick" or "full" ? args[0] : "quick";
        string[] filter = args.Length > 0 && args[0] == mode ? args[1..] : args;
        BenchMode.Quick = mode == "quick";
        var config = BenchConfig.Create(BenchMode.Quick);
        string loadBefore = MachineDescription.LoadAverage();
        var clock = Stopwatch.StartNew();
        // A full run measures every suite twice and keeps each side's faster round (CaseResult.Fastest): other
        // tenants' load comes in bursts of seconds that slow whichever method runs then, never speed one up.
        int rounds = BenchMode.Quick ? 1 : 2;
        var summaries = Enumerable.Range(0, rounds)
            .SelectMany(_ => filter.Length == 0
                ? BenchmarkRunner.Run(Suites, config)
                : BenchmarkSwitcher.FromTypes(Suites).Run(filter, config))
            .ToArray();
        var results = CaseResult.Fastest(CaseResult.From(summaries));
        Console.WriteLine();
        Console.WriteLine(RatioReport.Markdown(results));
        if (mode == "full" && filter.Length == 0)
        {
            string document = Path.Combine(RepositoryRoot(), "docs", "BENCHMARKS.md");
            BenchmarksDocument.Write(document, results, clock.Elapsed, loadBefore);
            Console.WriteLine($"Wrote {document} and its plots.");
        }
        bool failed = false;
        foreach (var summary in summaries)
        {
            failed |= summary.HasCriticalValidationErrors || summary.Reports.Length < summary.BenchmarksCases.Length;
            foreach (var report in summary.Reports)
            {
                failed |= !report.Success;
            }
        }
        return failed ? 1 : 0;
    }

    /// <summary>The folder holding KernelDsl.sln, searched upwards from this program's.</summary>
    private static string RepositoryRoot()
    {
        for (var folder = new DirectoryInfo(AppContext.BaseDirectory); folder is not null; folder = folder.Parent)
        {
            if (File.Exists(Path.Combine(folder.FullName, "KernelDsl.sln")))
            {
                return folder.FullName;
            }
        }
        throw new DirectoryNotFoundException("KernelDsl.sln not found above " + AppContext.BaseDirectory);
    }
}
