using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using Xunit;

namespace KernelDsl.Tests.Mpi;

/// <summary>
/// Starts the ring host (tests/KernelDsl.RingHost, built before this project through a project reference)
/// under <c>mpirun</c> and collects each rank's exit code, standard output and error, which every rank
/// writes to files of its own through a small shell wrapper: mpirun merges and may split the ranks' lines,
/// and with <c>orte_abort_on_non_zero_status 0</c> its own exit code says nothing about the ranks'.
/// </summary>
internal static class MpiJob
{
    /// <summary>Runs the wrapped rank: <c>$0</c> is the host, the rest its arguments.</summary>
    private const string RankScript =
        """dotnet "$0" "$@" >"$KD_RING_OUT/rank-$OMPI_COMM_WORLD_RANK.out" 2>"$KD_RING_OUT/rank-$OMPI_COMM_WORLD_RANK.err"; """ +
        """code=$?; echo $code >"$KD_RING_OUT/rank-$OMPI_COMM_WORLD_RANK.code"; exit $code""";

    /// <summary>
    /// Runs <paramref name="ranks"/> ranks with the same arguments and waits for the job, at most <paramref name="limit"/>.
    /// </summary>
    public static MpiJobResult Run(int ranks, IReadOnlyList<string> arguments, TimeSpan limit, bool keepGoing = false) =>
        Run([(ranks, arguments)], limit, keepGoing);

    /// <summary>
    /// Runs groups of ranks with different arguments (mpirun's MPMD form <c>-np 2 a : -np 1 b</c>; ranks are
    /// numbered in group order). With <paramref name="keepGoing"/>, a rank that exits with an error does not make
    /// mpirun kill the others, so that each one's own reaction can be observed.
    /// </summary>
    public static MpiJobResult Run(IReadOnlyList<(int Ranks, IReadOnlyList<string> Arguments)> groups, TimeSpan limit, bool keepGoing = false)
    {
        string mpirun = FindOnPath("mpirun")
            ?? throw new Xunit.Sdk.XunitException(
                "mpirun was not found on PATH. The MPI ring tests need Open MPI: apt-get install openmpi-bin libopenmpi-dev " +
                "(scripts/test.sh installs it when it is missing).");
        string host = HostPath();
        string outputs = Directory.CreateTempSubdirectory("kerneldsl-mpi-").FullName;
        try
        {
            var start = new ProcessStartInfo(mpirun)
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            start.Environment["KD_RING_OUT"] = outputs;
            // The ranks run `dotnet`; make it the same one that runs these tests.
            start.Environment["PATH"] = Path.GetDirectoryName(DotnetPath()) + Path.PathSeparator + Environment.GetEnvironmentVariable("PATH");
            foreach (string argument in new[] { "--allow-run-as-root", "--oversubscribe", "--bind-to", "none", "-x", "KD_RING_OUT", "-x", "PATH" })
            {
                start.ArgumentList.Add(argument);
            }
            if (keepGoing)
            {
                start.ArgumentList.Add("--mca");
                start.ArgumentList.Add("orte_abort_on_non_zero_status");
                start.ArgumentList.Add("0");
            }
            for (int group = 0; group < groups.Count; group++)
            {
                if (group > 0)
                {
                    start.ArgumentList.Add(":");
                }
                start.ArgumentList.Add("-np");
                start.ArgumentList.Add(groups[group].Ranks.ToString(CultureInfo.InvariantCulture));
                start.ArgumentList.Add("sh");
                start.ArgumentList.Add("-c");
                start.ArgumentList.Add(RankScript);
                start.ArgumentList.Add(host);
                foreach (string argument in groups[group].Arguments)
                {
                    start.ArgumentList.Add(argument);
                }
            }

            var clock = Stopwatch.StartNew();
            using var process = Process.Start(start)!;
            var output = process.StandardOutput.ReadToEndAsync();
            var error = process.StandardError.ReadToEndAsync();
            if (!process.WaitForExit(limit))
            {
                process.Kill(entireProcessTree: true);
                process.WaitForExit();
                throw new Xunit.Sdk.XunitException(
                    $"mpirun did not finish within {limit}; it was killed.\n{output.Result}{error.Result}\n{string.Join("\n", Collect(outputs, groups))}");
            }
            process.WaitForExit();
            clock.Stop();
            return new MpiJobResult(process.ExitCode, clock.Elapsed, output.Result + error.Result, Collect(outputs, groups));
        }
        finally
        {
            Directory.Delete(outputs, recursive: true);
        }
    }

    /// <summary>Runs the host once without mpirun (Open MPI's singleton start: a ring of one) and returns that rank's outcome.</summary>
    public static RankOutcome RunAlone(IReadOnlyList<string> arguments, TimeSpan limit)
    {
        var start = new ProcessStartInfo(DotnetPath())
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(HostPath());
        foreach (string argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(limit))
        {
            process.Kill(entireProcessTree: true);
            throw new Xunit.Sdk.XunitException($"the host did not finish within {limit}; it was killed.");
        }
        process.WaitForExit();
        return new RankOutcome(0, process.ExitCode, output.Result, error.Result);
    }

    /// <summary>The host's dll: same configuration and framework folders as this test assembly, in the host's project.</summary>
    private static string HostPath()
    {
        var framework = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
        var configuration = framework.Parent!;
        var tests = configuration.Parent!.Parent!.Parent!;
        string host = Path.Combine(tests.FullName, "KernelDsl.RingHost", "bin", configuration.Name, framework.Name, "KernelDsl.RingHost.dll");
        Assert.True(File.Exists(host), $"The ring host was not found at {host}; building KernelDsl.Tests builds it (project reference).");
        return host;
    }

    /// <summary>The dotnet executable running this test host (the SDK tells its children with DOTNET_HOST_PATH).</summary>
    private static string DotnetPath() =>
        Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } path ? path
        : Environment.ProcessPath is { } process && Path.GetFileNameWithoutExtension(process) == "dotnet" ? process
        : FindOnPath("dotnet") ?? throw new Xunit.Sdk.XunitException("dotnet was not found on PATH.");

    private static string? FindOnPath(string program) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Select(directory => Path.Combine(directory, program))
            .FirstOrDefault(File.Exists);

    private static RankOutcome[] Collect(string outputs, IReadOnlyList<(int Ranks, IReadOnlyList<string> Arguments)> groups) =>
        Enumerable.Range(0, groups.Sum(group => group.Ranks)).Select(rank =>
        {
            string Read(string extension) =>
                Path.Combine(outputs, $"rank-{rank}.{extension}") is var file && File.Exists(file) ? File.ReadAllText(file) : "";
            string code = Read("code").Trim();
            return new RankOutcome(rank, code.Length > 0 ? int.Parse(code, CultureInfo.InvariantCulture) : null, Read("out"), Read("err"));
        }).ToArray();
}
