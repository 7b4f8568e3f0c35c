using KernelDsl.Generator.Diagnostics;
using KernelDsl.Generator.Model;
using KernelDsl.Generator.Parsing;
using KernelDsl.Generator.Planning;

namespace KernelDsl.Generator.Validation;

/// <summary>
/// Checks an <see cref="AttentionSpec"/> before planning; a spec with no diagnostics always plans and
/// its kernels fit the register and shared-memory budgets.
/// </summary>
internal static class AttentionValidator
{
    public const int MaxHeadDim = 256;

    public static EquatableArray<DiagnosticInfo> Validate(AttentionSpec spec)
    {
        var found = new Findings();
        found.StaticPartial(spec.IsStaticPartial, spec.ClassLocation, spec.Kernel.ClassName);
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
            found.Add(DiagnosticDescriptors.NonPositiveSize, spec.AttentionLocation, "RingAttention.Scale", spec.Scale);
        }
        if (spec.Buffers is not (1 or 2))
        {
            found.Add(DiagnosticDescriptors.BuffersOutOfRange, spec.OverlapLocation, spec.Buffers);
        }
        if (spec.WarpsN != 1)
        {
            found.Add(DiagnosticDescriptors.ConflictingKernelAttributes, spec.WarpsLocation, spec.Kernel.ClassName,
                $"attention warps split the query rows only; write [Warps({spec.Warps})] instead of a {spec.Warps}×{spec.WarpsN} grid");
        }
        var tileLocation = spec.Attributes.TileLocation ?? spec.WarpsLocation;
        bool positive = found.Positive("Tile.Q", spec.TileQ, tileLocation)
            & found.Positive("Tile.KV", spec.TileKv, tileLocation)
            & found.Positive("Warps", spec.Warps, spec.WarpsLocation);
        if (!positive || found.Count > 0)
        {
            return found.ToEquatableArray();
        }
        if (spec.Warps > 32)
        {
            found.Add(DiagnosticDescriptors.TooManyThreads, spec.WarpsLocation, spec.Warps, 1, spec.Warps * 32);
            return found.ToEquatableArray();
        }
        CheckTiling(spec, found, tileLocation);
        return found.ToEquatableArray();
    }

    private static void CheckTiling(AttentionSpec spec, Findings found, LocationInfo? tileLocation)
    {
        if (spec.TileQ % spec.Warps != 0)
        {
            int suggestion = (spec.TileQ + spec.Warps - 1) / spec.Warps * spec.Warps;
            found.Add(DiagnosticDescriptors.TileNotDivisibleByWarps, tileLocation, "Q", spec.TileQ, spec.Warps, suggestion);
            return;
        }
        int rowsPerWarp = spec.TileQ / spec.Warps;
        if (spec.TileKv % 16 != 0)
        {
            found.Add(DiagnosticDescriptors.AttentionTileNotMmaMultiple, tileLocation, $"Tile.KV = {spec.TileKv} keys per step must be a multiple of 16");
        }
        if (AttentionPlanner.UsesTensorCores(spec.Element) && rowsPerWarp % 16 != 0)
        {
            found.Add(DiagnosticDescriptors.AttentionTileNotMmaMultiple, tileLocation,
                $"each of the {spec.Warps} warps owns {rowsPerWarp} query rows; tensor-core MMAs need a multiple of 16");
        }
        int accumulators = CudaAttentionPlan.AccumulatorsOf(spec.TileQ, spec.TileKv, spec.Warps, spec.HeadDim, AttentionPlanner.ElementBytes(spec.Element));
        if (accumulators > AttentionAccumulatorBudget)
        {
            found.Add(DiagnosticDescriptors.ThreadTileNotExpressible, tileLocation, rowsPerWarp, spec.HeadDim + spec.TileKv, AttentionAccumulatorBudget,
                $"each thread would hold {accumulators} fp32 accumulators for O and S; use more warps or smaller Tile(Q, KV)");
        }
        int elementBytes = AttentionPlanner.ElementBytes(spec.Element);
        long shared = CudaAttentionPlan.SharedBytesOf(spec.TileQ, spec.TileKv, spec.Warps, spec.HeadDim, elementBytes);
        if (shared > GemmValidator.SharedMemoryLimitBytes)
        {
            long qBytes = (long)spec.TileQ * spec.HeadDim * elementBytes, kvBytes = 2L * spec.TileKv * spec.HeadDim * elementBytes;
            found.Add(DiagnosticDescriptors.SharedMemoryOverLimit, tileLocation, shared,
                $"a {qBytes}-byte Q tile + {CudaAttentionPlan.KvStages} stages × {kvBytes} bytes of K and V",
                GemmValidator.SharedMemoryLimitBytes, GemmValidator.SharedMemoryLimitArch, "reduce Tile(Q, KV)");
        }
    }

    /// <summary>O and S accumulators per thread; with fragments and addresses this stays under 255 registers.</summary>
    public const int AttentionAccumulatorBudget = 160;
}
