using System;
using KernelDsl.Generator.Diagnostics;
using KernelDsl.Generator.Model;
using KernelDsl.Generator.Parsing;
using KernelDsl.Generator.Planning;

namespace KernelDsl.Generator.Validation;

/// <summary>
/// Checks a <see cref="GemmSpec"/> before planning. Every rule that the planner relies on is
/// enforced here, each as a diagnostic at the attribute that breaks it; a spec with no
/// diagnostics always plans.
/// </summary>
internal static class GemmValidator
{
    public const int MaxStages = 8;

    /// <summary>The smallest opt-in shared memory per block of the architectures we compile for: sm_80 (A100), 163 KiB.</summary>
    public const int SharedMemoryLimitBytes = 166912;
    public const int SharedMemoryLimitArch = 80;

    public static EquatableArray<DiagnosticInfo> Validate(GemmSpec spec)
    {
        var found = new Findings();
        found.StaticPartial(spec.IsStaticPartial, spec.ClassLocation, spec.Kernel.ClassName);
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
        bool shapeValid = CheckSizes(spec, found);
        if (shapeValid)
        {
            CheckWarpTiling(spec, found);
        }
        if (shapeValid && CheckStages(spec, found))
        {
            CheckSharedMemory(spec, found);
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

    private static bool CheckSizes(GemmSpec spec, Findings found)
    {
        bool positive = found.Positive("Tile.M", spec.Tile.M, spec.TileLocation)
            & found.Positive("Tile.N", spec.Tile.N, spec.TileLocation)
            & found.Positive("Tile.K", spec.Tile.K, spec.TileLocation)
            & found.Positive("Warps.M", spec.Warps.M, spec.WarpsLocation)
            & found.Positive("Warps.N", spec.Warps.N, spec.WarpsLocation);
        if (positive && spec.Warps.Count > 32)
        {
            found.Add(DiagnosticDescriptors.TooManyThreads, spec.WarpsLocation, spec.Warps.M, spec.Warps.N, spec.Warps.Count * 32);
            return false;
        }
        return positive;
    }

    private static void CheckWarpTiling(GemmSpec spec, Findings found)
    {
        bool divides = true;
        void Divisible(string axis, int tile, int warps)
        {
            if (tile % warps != 0)
            {
                divides = false;
                int suggestion = (tile + warps - 1) / warps * warps;
                found.Add(DiagnosticDescriptors.TileNotDivisibleByWarps, spec.TileLocation ?? spec.WarpsLocation, axis, tile, warps, suggestion);
            }
        }
        Divisible("M", spec.Tile.M, spec.Warps.M);
        Divisible("N", spec.Tile.N, spec.Warps.N);
        if (!divides)
        {
            return;
        }
        int warpTileM = spec.Tile.M / spec.Warps.M, warpTileN = spec.Tile.N / spec.Warps.N;
        if (GemmPlanner.UsesTensorCores(spec.Operands))
        {
            CheckMmaShape(spec, found, warpTileM, warpTileN);
        }
        else if (ThreadTile.Find(warpTileM, warpTileN) is null)
        {
            int area = warpTileM * warpTileN;
            string why = area % 32 != 0
                ? $"its {area} elements are not a multiple of 32; make the warp tile larger or use fewer warps"
                : area / 32 > ThreadTile.MaxAccumulators
                    ? $"each thread would hold {area / 32} accumulators; use more warps or a smaller tile"
                    : $"no power-of-two grid of lanes gives each one a block with sides of at most {ThreadTile.MaxSide}; use power-of-two tile sides";
            found.Add(DiagnosticDescriptors.ThreadTileNotExpressible, spec.TileLocation ?? spec.WarpsLocation,
                warpTileM, warpTileN, ThreadTile.MaxAccumulators, why);
        }
    }

    /// <summary>
    /// Tensor cores: a warp tile is whole 16×16 blocks (16×8 MMA tiles, B fragments loaded in pairs),
    /// the K tile whole 16-deep MMA steps, and the accumulators fit the register budget.
    /// </summary>
    private static void CheckMmaShape(GemmSpec spec, Findings found, int warpTileM, int warpTileN)
    {
        var where = spec.TileLocation ?? spec.WarpsLocation;
        if (warpTileM % 16 != 0 || warpTileN % 16 != 0)
        {
            found.Add(DiagnosticDescriptors.WarpTileNotMmaMultiple, where, warpTileM, warpTileN, spec.Tile.M, spec.Tile.N, spec.Warps.M, spec.Warps.N);
        }
        else if (warpTileM * warpTileN / 32 > ThreadTile.MaxAccumulators)
        {
            found.Add(DiagnosticDescriptors.ThreadTileNotExpressible, where, warpTileM, warpTileN, ThreadTile.MaxAccumulators,
                $"each thread would hold {warpTileM * warpTileN / 32} accumulators; use more warps or a smaller tile");
        }
        if (spec.Tile.K % 16 != 0)
        {
            found.Add(DiagnosticDescriptors.TileKNotMmaMultiple, where, spec.Tile.K);
        }
    }

    private static bool CheckStages(GemmSpec spec, Findings found)
    {
        if (spec.Stages >= 1 && spec.Stages <= MaxStages)
        {
            return true;
        }
        found.Add(DiagnosticDescriptors.StagesOutOfRange, spec.PipelineLocation, spec.Stages, MaxStages);
        return false;
    }

    private static void CheckSharedMemory(GemmSpec spec, Findings found)
    {
        long perStage = GemmPlanner.SharedBytesPerStage(spec);
        long total = perStage * spec.Stages;
        if (total > SharedMemoryLimitBytes)
        {
            found.Add(DiagnosticDescriptors.SharedMemoryOverLimit, spec.PipelineLocation ?? spec.TileLocation, total,
                $"{spec.Stages} stages × {perStage} bytes", SharedMemoryLimitBytes, SharedMemoryLimitArch, "reduce Pipeline.Stages or the tile");
        }
    }
}
