using System.Collections.Generic;
using System.Globalization;
using System.Linq;

namespace KernelDsl.Generator.Tests.Infrastructure;

/// <summary>
/// Static instruction counts of a SASS region by kind: what a kernel's main loop spends its issue slots on, read
/// from the CUBIN without a GPU.
/// </summary>
/// <param name="Instructions">All instructions.</param>
/// <param name="Hmma">Tensor-core MMAs (<c>HMMA</c>, as <c>mma.sync</c> compiles), and Hopper's <c>HGMMA</c>.</param>
/// <param name="Ldsm">Shared-memory matrix loads (<c>LDSM</c>, from <c>ldmatrix</c>).</param>
/// <param name="Ldgsts">Asynchronous global→shared copies (<c>LDGSTS</c>, from <c>cp.async</c>).</param>
/// <param name="Ffma">fp32 fused multiply-adds.</param>
/// <param name="IntegerAddress">
/// Integer and address arithmetic: <c>IMAD</c> (incl. <c>IMAD.MOV</c>, <c>IMAD.WIDE</c>), <c>IADD3</c>, <c>LEA</c>,
/// <c>SHF</c>, <c>LOP3</c>, <c>ISETP</c>, <c>SEL</c>, <c>MOV</c>, <c>IMNMX</c>, <c>IABS</c>, and their uniform-datapath
/// forms (<c>UIMAD</c>, <c>UIADD3</c>, ...).
/// </param>
/// <param name="LocalMemory">Local-memory loads and stores (<c>LDL</c>, <c>STL</c>): spills or a dynamically indexed array.</param>
/// <param name="MostFrequent">The most frequent opcode (without modifiers; the first in ordinal order of equally frequent ones).</param>
internal sealed record InstructionMix(
    int Instructions, int Hmma, int Ldsm, int Ldgsts, int Ffma, int IntegerAddress, int LocalMemory, string MostFrequent)
{
    private static readonly HashSet<string> IntegerAddressOps = new(
        new[] { "IMAD", "IADD3", "LEA", "SHF", "LOP3", "ISETP", "SEL", "MOV", "IMNMX", "IABS" }.SelectMany(op => new[] { op, "U" + op }),
        System.StringComparer.Ordinal);

    /// <summary>Whether <paramref name="instruction"/> is a tensor-core MMA.</summary>
    public static bool IsTensor(SassInstruction instruction) => instruction.Base is "HMMA" or "HGMMA";

    /// <summary>Whether <paramref name="instruction"/> is an fp32 FMA.</summary>
    public static bool IsFfma(SassInstruction instruction) => instruction.Base == "FFMA";

    /// <summary>Integer and address instructions per tensor instruction; null without tensor instructions.</summary>
    public double? IntegerAddressPerHmma => Hmma == 0 ? null : (double)IntegerAddress / Hmma;

    /// <summary>The counts of <paramref name="instructions"/>.</summary>
    public static InstructionMix Of(IEnumerable<SassInstruction> instructions)
    {
        int total = 0, hmma = 0, ldsm = 0, ldgsts = 0, ffma = 0, integer = 0, local = 0;
        var byOpcode = new Dictionary<string, int>(System.StringComparer.Ordinal);
        foreach (SassInstruction instruction in instructions)
        {
            total++;
            string op = instruction.Base;
            byOpcode[op] = byOpcode.GetValueOrDefault(op) + 1;
            if (IsTensor(instruction)) hmma++;
            else if (op == "LDSM") ldsm++;
            else if (op == "LDGSTS") ldgsts++;
            else if (op == "FFMA") ffma++;
            else if (IntegerAddressOps.Contains(op)) integer++;
            else if (op is "LDL" or "STL") local++;
        }
        string mostFrequent = byOpcode.OrderByDescending(pair => pair.Value).ThenBy(pair => pair.Key, System.StringComparer.Ordinal)
            .Select(pair => pair.Key).FirstOrDefault() ?? "";
        return new InstructionMix(total, hmma, ldsm, ldgsts, ffma, integer, local, mostFrequent);
    }

    /// <summary>
    /// What is wrong with a kernel whose main loop's own body (<see cref="SassRegion.OwnInstructions"/>) has this mix and
    /// whose functions have <paramref name="wholeLocalMemory"/> local accesses: local memory anywhere; for a tensor-core
    /// kernel no HMMA in the main loop; for a SIMT one an HMMA, or a main loop that is not FFMA-dominated (FFMA not its
    /// most frequent opcode). Empty when nothing is.
    /// </summary>
    /// <param name="tensorCores">The kernel should compute on tensor cores.</param>
    /// <param name="wholeLocalMemory">LDL/STL in all the kernel's functions, not only its main loop.</param>
    public IReadOnlyList<string> Problems(bool tensorCores, int wholeLocalMemory)
    {
        var problems = new List<string>();
        if (wholeLocalMemory > 0)
        {
            problems.Add($"{wholeLocalMemory} local-memory instructions (LDL/STL): spills or a dynamically indexed array");
        }
        if (tensorCores && Hmma == 0)
        {
            problems.Add("no tensor-core instruction (HMMA) in the main loop");
        }
        if (!tensorCores && Hmma > 0)
        {
            problems.Add($"{Hmma} tensor-core instructions in a SIMT kernel's main loop");
        }
        if (!tensorCores && MostFrequent != "FFMA")
        {
            problems.Add($"the main loop is not FFMA-dominated: {MostFrequent} is its most frequent opcode ({Ffma} FFMA of {Instructions})");
        }
        return problems;
    }

    /// <summary>The table's header, in Markdown.</summary>
    public const string TableHeader =
        "| kernel | arch | NVRTC | main loop | instr. | HMMA | LDSM | LDGSTS | FFMA | int/addr | int/addr per HMMA | LDL/STL |\n" +
        "|---|---|---|---|--:|--:|--:|--:|--:|--:|--:|--:|";

    /// <summary>One Markdown table row; <paramref name="wholeLocalMemory"/> is the whole function's LDL/STL.</summary>
    public string TableRow(string kernel, int arch, string nvrtc, SassRegion region, int wholeLocalMemory) =>
        string.Create(
            CultureInfo.InvariantCulture,
            $"| {kernel} | sm_{arch} | {nvrtc} | {(region.IsLoop ? "loop" : "whole")} | {Instructions} | {Hmma} | {Ldsm} | {Ldgsts} | {Ffma} | {IntegerAddress} | " +
            $"{(IntegerAddressPerHmma is { } ratio ? ratio.ToString("0.00", CultureInfo.InvariantCulture) : "–")} | {wholeLocalMemory} |");
}
