using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Text.RegularExpressions;

namespace KernelDsl.Cuda;

/// <summary>The resource usage ptxas reports with <c>-v</c>, one record per entry function.</summary>
/// <param name="Functions">Entry functions in the order ptxas compiled them.</param>
public sealed partial record PtxasReport(IReadOnlyList<PtxasFunction> Functions)
{
    /// <summary>The entry named <paramref name="name"/>.</summary>
    /// <exception cref="KeyNotFoundException">The report has no such entry.</exception>
    public PtxasFunction Function(string name) =>
        Functions.FirstOrDefault(f => f.Name == name)
        ?? throw new KeyNotFoundException(
            $"ptxas reported no entry '{name}'; entries: [{string.Join(", ", Functions.Select(f => f.Name))}].");

    /// <summary>Parses the ptxas part of an NVRTC log; other lines are ignored.</summary>
    /// <remarks>
    /// ptxas (NVRTC 11.8) prints, per entry:
    /// <code>
    /// ptxas info    : Compiling entry function 'copy_tile' for 'sm_80'
    /// ptxas info    : Function properties for copy_tile
    /// ptxas         .     0 bytes stack frame, 0 bytes spill stores, 0 bytes spill loads
    /// ptxas info    : Used 12 registers, 512 bytes smem, 368 bytes cmem[0]
    /// </code>
    /// A non-inlined device function gets its own "Function properties" block after its
    /// caller's "Used" line, so the stack line is attributed by the name in the properties
    /// header, and only entries are reported. Fields ptxas leaves out (no smem) read as zero.
    /// </remarks>
    /// <param name="log">The compile log, as in <see cref="NvrtcResult.Log"/>.</param>
    public static PtxasReport Parse(string log)
    {
        ArgumentNullException.ThrowIfNull(log);
        List<PtxasFunction> entries = [];
        int current = -1;          // index of the entry whose "Used" line comes next
        string? propertiesOf = null; // function named by the last "Function properties" header

        foreach (string line in log.Split('\n'))
        {
            if (EntryLine().Match(line) is { Success: true } entry)
            {
                entries.Add(new PtxasFunction(entry.Groups[1].Value, 0, 0, 0, 0, 0));
                current = entries.Count - 1;
            }
            else if (PropertiesLine().Match(line) is { Success: true } properties)
            {
                propertiesOf = properties.Groups[1].Value;
            }
            else if (StackLine().Match(line) is { Success: true } stack)
            {
                int index = entries.FindIndex(f => f.Name == propertiesOf);
                if (index >= 0)
                {
                    entries[index] = entries[index] with
                    {
                        StackFrameBytes = Int(stack.Groups[1]),
                        SpillStoreBytes = Int(stack.Groups[2]),
                        SpillLoadBytes = Int(stack.Groups[3]),
                    };
                }
            }
            else if (current >= 0 && UsedLine().Match(line) is { Success: true } used)
            {
                Match smem = SmemField().Match(line);
                entries[current] = entries[current] with
                {
                    Registers = Int(used.Groups[1]),
                    SharedBytes = smem.Success ? Int(smem.Groups[1]) : 0,
                };
            }
        }

        return new PtxasReport(entries);
    }

    private static int Int(Group group) => int.Parse(group.Value, CultureInfo.InvariantCulture);

    [GeneratedRegex(@"Compiling entry function '([^']+)'")]
    private static partial Regex EntryLine();

    [GeneratedRegex(@"Function properties for (\S+)")]
    private static partial Regex PropertiesLine();

    [GeneratedRegex(@"(\d+) bytes stack frame, (\d+) bytes spill stores, (\d+) bytes spill loads")]
    private static partial Regex StackLine();

    // CUDA 12 inserts "used N barriers" after the register count, so smem is matched on its own.
    [GeneratedRegex(@"Used (\d+) registers")]
    private static partial Regex UsedLine();

    [GeneratedRegex(@"(\d+) bytes smem")]
    private static partial Regex SmemField();
}
