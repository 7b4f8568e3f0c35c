using KernelDsl.Generator.Diagnostics;
using KernelDsl.Generator.Emitting;
using KernelDsl.Generator.Model;
using KernelDsl.Generator.Parsing;

namespace KernelDsl.Generator.Validation;

/// <summary>
/// Checks a <see cref="GemmSpec"/> before planning: the class, conflicting attributes, enum values, element
/// combinations and the range of every number, each as a diagnostic at the attribute that breaks it. Whether a
/// tiling of the valid request exists is the planner's question (<c>GemmPlanner</c>), asked only after this passes.
/// </summary>
internal static class GemmValidator
{
    public const int MaxStages = 8;

    public static EquatableArray<DiagnosticInfo> Validate(GemmSpec spec)
    {
        var found = new Findings();
        found.KernelClass(spec.Shape, spec.Kernel, spec.ClassLocation, "Gemm", spec.GemmLocation, GeneratedMembers.GemmReserved);
        if (spec.Attributes.Has(AttributeNames.RingAttention))
        {
            found.Add(DiagnosticDescriptors.ConflictingKernelAttributes, spec.GemmLocation, spec.Kernel.ClassName,
                "a class declares one kernel, but it has both [Gemm] and [RingAttention]; split them into two classes");
            return found.ToEquatableArray();
        }
        found.ForeignTuning(spec.Attributes, spec.Kernel.ClassName, spec.ClassLocation, "Gemm", [AttributeNames.Overlap], ["Q", "KV"]);
        bool elementsKnown = found.Defined("Gemm.Element", spec.Operands.Element, spec.GemmLocation)
            & found.Defined("Gemm.Accumulate", spec.Operands.Accumulate, spec.GemmLocation)
            & found.Defined("Gemm.Output", spec.Operands.Output, spec.GemmLocation)
            & found.Defined("Epilogue.Activation", spec.Epilogue.Activation, spec.EpilogueLocation);
        if (elementsKnown)
        {
            CheckElements(spec, found);
        }
        found.TileSide("Tile.M", spec.Tile.M, spec.TileLocation);
        found.TileSide("Tile.N", spec.Tile.N, spec.TileLocation);
        found.TileSide("Tile.K", spec.Tile.K, spec.TileLocation);
        found.WarpGrid(spec.Warps.M, spec.Warps.N, spec.WarpsLocation);
        if (spec.Stages < 1 || spec.Stages > MaxStages)
        {
            found.Add(DiagnosticDescriptors.StagesOutOfRange, spec.PipelineLocation, spec.Stages, MaxStages);
        }
        return found.ToEquatableArray();
    }

    /// <summary>fp32 runs on CUDA cores and writes fp32; fp16/bf16 run on tensor cores and write any of the three.</summary>
    private static void CheckElements(GemmSpec spec, Findings found)
    {
        var o = spec.Operands;
        string? why =
            o.Accumulate != Element.F32 ? "accumulation must be F32 (Accumulate = Element.F32)" :
            o.Element == Element.F32 && o.Output != Element.F32 ? "an F32 GEMM writes F32 output; use Output = Element.F32, or F16/BF16 operands" :
            null;
        if (why is not null)
        {
            found.Add(DiagnosticDescriptors.UnsupportedElements, spec.GemmLocation, o.Element, o.Accumulate, o.Output, why);
        }
    }
}
