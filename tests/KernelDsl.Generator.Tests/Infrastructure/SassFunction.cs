using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Text.RegularExpressions;

namespace KernelDsl.Generator.Tests.Infrastructure;

/// <summary>One function (<c>.text.NAME</c> section) of an nvdisasm listing, with its loops.</summary>
/// <param name="Name">The function's symbol, e.g. <c>kd_gemm_GemmSample_Square</c>.</param>
/// <param name="Instructions">Its instructions in address order.</param>
/// <param name="Labels">Each label's position: the index in <paramref name="Instructions"/> of the instruction it names.</param>
internal sealed partial record SassFunction(string Name, IReadOnlyList<SassInstruction> Instructions, IReadOnlyDictionary<string, int> Labels)
{
    /// <summary>The whole function as one region.</summary>
    public SassRegion Whole => new(this, 0, Instructions.Count - 1, IsLoop: false);

    /// <summary>
    /// Every loop: a branch back to a label at or before it, from the label to the last branch back to it (several
    /// branches to one header, <c>continue</c>s, make one loop). Static code ranges, not executions: code that a loop
    /// jumps over is inside it if its addresses are.
    /// </summary>
    public IReadOnlyList<SassRegion> Loops
    {
        get
        {
            var lastBranchTo = new Dictionary<int, int>();
            for (int i = 0; i < Instructions.Count; i++)
            {
                if (Instructions[i] is { Base: "BRA", Target: { } target } && Labels.TryGetValue(target, out int header) && header <= i)
                {
                    lastBranchTo[header] = i;
                }
            }
            return lastBranchTo.OrderBy(pair => pair.Key).Select(pair => new SassRegion(this, pair.Key, pair.Value, IsLoop: true)).ToList();
        }
    }

    /// <summary>
    /// The main loop by the kernel's own work: tensor-core MMAs if the function has any, else FFMAs
    /// (see <see cref="MainLoop(Func{SassInstruction, bool})"/>).
    /// </summary>
    public SassRegion MainLoop() =>
        MainLoop(Instructions.Any(InstructionMix.IsTensor) ? InstructionMix.IsTensor : InstructionMix.IsFfma);

    /// <summary>
    /// The main loop: the loop whose <see cref="SassRegion.OwnInstructions"/> (those of loops nested in it left out) hold the most of
    /// <paramref name="isCompute"/>, the smaller of equal ones; the whole function when no loop holds any. Its
    /// region, and so every count made of it, includes the loops nested in it (a K loop's tile-copy loops).
    /// </summary>
    /// <param name="isCompute">What the kernel's work is: HMMA for a tensor-core kernel, FFMA for a SIMT one.</param>
    public SassRegion MainLoop(Func<SassInstruction, bool> isCompute)
    {
        SassRegion? best = null;
        int bestCount = 0;
        foreach (SassRegion loop in Loops)
        {
            int own = loop.OwnInstructions.Count(isCompute);
            if (own > bestCount || (own == bestCount && own > 0 && loop.Length < best!.Length))
            {
                best = loop;
                bestCount = own;
            }
        }
        return best ?? Whole;
    }

    /// <summary>The functions of <c>nvdisasm --print-code</c> output, in listing order.</summary>
    public static IReadOnlyList<SassFunction> ParseListing(string listing)
    {
        var functions = new List<SassFunction>();
        string? name = null;
        var instructions = new List<SassInstruction>();
        var labels = new Dictionary<string, int>(StringComparer.Ordinal);

        void Flush()
        {
            if (name is not null)
            {
                functions.Add(new SassFunction(name, instructions, labels));
            }
            instructions = [];
            labels = new Dictionary<string, int>(StringComparer.Ordinal);
        }

        foreach (string line in listing.Split('\n'))
        {
            if (SectionLine().Match(line) is { Success: true } section)
            {
                Flush();
                name = section.Groups[1].Value;
            }
            else if (name is not null && LabelLine().Match(line) is { Success: true } label)
            {
                labels[label.Groups[1].Value] = instructions.Count;
            }
            else if (name is not null && InstructionLine().Match(line) is { Success: true } instruction)
            {
                string text = instruction.Groups[2].Value.Trim();
                string opcode = Predicate().Replace(text, "").Split(' ', 2)[0];
                string? target = BranchTarget().Match(text) is { Success: true } t ? t.Groups[1].Value : null;
                instructions.Add(new SassInstruction(
                    int.Parse(instruction.Groups[1].Value, NumberStyles.HexNumber, CultureInfo.InvariantCulture), opcode, text, target));
            }
        }
        Flush();
        return functions;
    }

    [GeneratedRegex(@"^\s*\.section\s+\.text\.([^,\s]+)")]
    private static partial Regex SectionLine();

    [GeneratedRegex(@"^(\.L_x_\d+):")]
    private static partial Regex LabelLine();

    [GeneratedRegex(@"^\s*/\*([0-9a-f]+)\*/\s+(.*?)\s*;")]
    private static partial Regex InstructionLine();

    [GeneratedRegex(@"^@!?U?P\w+\s+")]
    private static partial Regex Predicate();

    [GeneratedRegex(@"`\((\.L_x_\d+)\)")]
    private static partial Regex BranchTarget();
}
