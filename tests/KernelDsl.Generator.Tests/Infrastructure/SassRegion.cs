using System.Collections.Generic;
using System.Linq;

namespace KernelDsl.Generator.Tests.Infrastructure;

/// <summary>A contiguous range of a function's instructions: a loop, or the whole function.</summary>
/// <param name="Function">The function it belongs to.</param>
/// <param name="First">Index of its first instruction (a loop's header).</param>
/// <param name="Last">Index of its last instruction (a loop's last branch back).</param>
/// <param name="IsLoop">A loop rather than the whole function.</param>
internal sealed record SassRegion(SassFunction Function, int First, int Last, bool IsLoop)
{
    /// <summary>How many instructions it holds.</summary>
    public int Length => Last - First + 1;

    /// <summary>Its instructions in address order, those of loops nested in it included.</summary>
    public IEnumerable<SassInstruction> Instructions => Function.Instructions.Skip(First).Take(Length);

    /// <summary>
    /// Its own instructions: those of the loops nested in it (a K loop's tile-copy loops, which run a varying number of
    /// times per iteration) left out.
    /// </summary>
    public IEnumerable<SassInstruction> OwnInstructions
    {
        get
        {
            var nested = Function.Loops.Where(loop => loop != this && loop.First >= First && loop.Last <= Last).ToList();
            return Enumerable.Range(First, Length)
                .Where(i => !nested.Any(loop => i >= loop.First && i <= loop.Last))
                .Select(i => Function.Instructions[i]);
        }
    }

    /// <summary>e.g. <c>loop 0x1a00–0x2f70 (312 instructions)</c>.</summary>
    public override string ToString() =>
        $"{(IsLoop ? "loop" : "whole function")} 0x{Function.Instructions[First].Address:x}–0x{Function.Instructions[Last].Address:x} ({Length} instructions)";
}
