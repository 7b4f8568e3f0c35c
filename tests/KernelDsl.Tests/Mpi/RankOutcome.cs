using System;
using System.Globalization;
using System.Linq;

namespace KernelDsl.Tests.Mpi;

/// <summary>
/// What one rank of an <see cref="MpiJob"/> left behind: its exit code (null when mpirun killed it before it
/// could exit on its own), its standard output and error.
/// </summary>
internal sealed record RankOutcome(int Rank, int? ExitCode, string Output, string Error)
{
    /// <summary>The host's result line (<c>RINGHOST rank=… result=…</c>), or null when it printed none.</summary>
    public string? Line => Output.Split('\n').Select(line => line.Trim()).FirstOrDefault(line => line.StartsWith("RINGHOST ", StringComparison.Ordinal));

    /// <summary>The <c>result=</c> of the line: ok, mismatch, failed or fault; null without a line.</summary>
    public string? Result => Field("result");

    /// <summary>The text after <c>message=</c> (the exception message of a failed rank).</summary>
    public string? Message => Line is { } line && line.IndexOf(" message=", StringComparison.Ordinal) is var at and >= 0 ? line[(at + 9)..] : null;

    /// <summary>A <c>name=value</c> field of the line (before any message).</summary>
    public string? Field(string name)
    {
        if (Line is not { } line)
        {
            return null;
        }
        int end = line.IndexOf(" message=", StringComparison.Ordinal);
        string fields = end >= 0 ? line[..end] : line;
        return fields.Split(' ').Where(token => token.StartsWith(name + "=", StringComparison.Ordinal)).Select(token => token[(name.Length + 1)..]).FirstOrDefault();
    }

    /// <summary>A numeric field; fails the test when it is missing.</summary>
    public double Number(string name) => double.Parse(
        Field(name) ?? throw new InvalidOperationException($"Rank {Rank} printed no {name}: {this}"), CultureInfo.InvariantCulture);

    public override string ToString() => $"rank {Rank}: exit {ExitCode?.ToString(CultureInfo.InvariantCulture) ?? "none (killed)"}\n  stdout: {Output.Trim()}\n  stderr: {Error.Trim()}";
}
