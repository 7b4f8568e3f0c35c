using System;
using System.Collections.Generic;

namespace KernelDsl.Tests.Mpi;

/// <summary>The outcome of an <see cref="MpiJob"/>: mpirun's exit code and own output, the wall time, and every rank's outcome in rank order.</summary>
internal sealed record MpiJobResult(int ExitCode, TimeSpan Elapsed, string LauncherOutput, IReadOnlyList<RankOutcome> Ranks)
{
    public override string ToString() =>
        $"mpirun exit {ExitCode} after {Elapsed.TotalSeconds:F1} s\n{LauncherOutput.Trim()}\n{string.Join("\n", Ranks)}";
}
