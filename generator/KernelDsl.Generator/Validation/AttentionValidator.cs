using System;
using System.Globalization;
using KernelDsl.Generator.Diagnostics;
using KernelDsl.Generator.Emitting;
using KernelDsl.Generator.Model;
using KernelDsl.Generator.Parsing;

namespace KernelDsl.Generator.Validation;

/// <summary>
/// Checks an <see cref="AttentionSpec"/> before planning: the class, conflicting attributes, enum values and the
/// range of every number. Whether the tile splits over the warps and fits the budgets is the planner's question
/// (<c>AttentionPlanner</c>), asked only after this passes.
/// </summary>
internal static class AttentionValidator
{
    public const int MaxHeadDim = 256;

    /// <summary>exp(x·scale) is computed as exp2(x·scale·log2 e); the folded scale must stay a finite float.</summary>
    private const double Log2E = 1.4426950408889634;

    public static EquatableArray<DiagnosticInfo> Validate(AttentionSpec spec)
    {
        var found = new Findings();
        found.KernelClass(spec.Shape, spec.Kernel, spec.ClassLocation, "RingAttention", spec.AttentionLocation, GeneratedMembers.AttentionReserved);
        if (spec.Attributes.Has(AttributeNames.Gemm))
        {
            return found.ToEquatableArray();  // the [Gemm] validation reports the pair once
        }
        found.ForeignTuning(spec.Attributes, spec.Kernel.ClassName, spec.ClassLocation, "RingAttention",
            [AttributeNames.Pipeline, AttributeNames.Epilogue], ["M", "N", "K"]);
        found.Defined("RingAttention.Element", spec.Element, spec.AttentionLocation);
        found.Defined("RingAttention.Layout", spec.Layout, spec.AttentionLocation);
        if (spec.HeadDim % 16 != 0 || spec.HeadDim < 16 || spec.HeadDim > MaxHeadDim)
        {
            found.Add(DiagnosticDescriptors.HeadDimOutOfRange, spec.AttentionLocation, spec.HeadDim);
        }
        if (!(spec.Scale >= 0) || float.IsInfinity(spec.Scale))
        {
            found.Add(DiagnosticDescriptors.NonPositiveSize, spec.AttentionLocation, "RingAttention.Scale", spec.Scale.ToString("R", CultureInfo.InvariantCulture));
        }
        else if (spec.Scale * Log2E > float.MaxValue)
        {
            found.Add(DiagnosticDescriptors.ValueOutOfRange, spec.AttentionLocation, "RingAttention.Scale", spec.Scale.ToString("R", CultureInfo.InvariantCulture),
                FormattableString.Invariant($"scale · log2(e) must be a finite float, so at most {float.MaxValue / Log2E:G3}; leave it 0 for 1/√HeadDim"));
        }
        if (spec.Buffers is not (1 or 2))
        {
            found.Add(DiagnosticDescriptors.BuffersOutOfRange, spec.OverlapLocation, spec.Buffers);
        }
        if (spec.WarpsN != 1)
        {
            found.Add(DiagnosticDescriptors.ConflictingKernelAttributes, spec.WarpsLocation, spec.Kernel.ClassName,
                FormattableString.Invariant($"attention warps split the query rows only; write [Warps({spec.Warps})] instead of a {spec.Warps}×{spec.WarpsN} grid"));
        }
        else
        {
            found.WarpGrid(spec.Warps, 1, spec.WarpsLocation, "Warps");
        }
        var tileLocation = spec.Attributes.TileLocation ?? spec.WarpsLocation;
        found.TileSide("Tile.Q", spec.TileQ, tileLocation);
        found.TileSide("Tile.KV", spec.TileKv, tileLocation);
        return found.ToEquatableArray();
    }
}
