using System;
using System.Collections.Generic;
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
        var found = new List<DiagnosticInfo>();
        if (!spec.IsStaticPartial)
        {
            found.Add(DiagnosticInfo.Create(DiagnosticDescriptors.KernelClassNotStaticPartial, spec.ClassLocation, spec.Kernel.ClassName));
        }
        bool elementsKnown = CheckEnums(spec, found);
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

    private static bool CheckEnums(GemmSpec spec, List<DiagnosticInfo> found)
    {
        int before = found.Count;
        void Check<T>(string what, T value, LocationInfo? where) where T : struct, Enum
        {
            if (!Enum.IsDefined(typeof(T), value))
            {
                found.Add(DiagnosticInfo.Create(DiagnosticDescriptors.UnknownEnumValue, where, what, Convert.ToInt32(value), "KernelDsl." + typeof(T).Name));
            }
        }
        Check("Gemm.Element", spec.Operands.Element, spec.GemmLocation);
        Check("Gemm.Accumulate", spec.Operands.Accumulate, spec.GemmLocation);
        Check("Gemm.Output", spec.Operands.Output, spec.GemmLocation);
        Check("Epilogue.Activation", spec.Epilogue.Activation, spec.EpilogueLocation);
        return found.Count == before;
    }

    /// <summary>fp32 SIMT is the path that exists; 16-bit operands arrive with the tensor-core GEMM.</summary>
    private static void CheckElements(GemmSpec spec, List<DiagnosticInfo> found)
    {
        var o = spec.Operands;
        string? why =
            o.Accumulate != Element.F32 ? "accumulation must be F32" :
            o.Element != Element.F32 ? "F16 and BF16 operands need the tensor-core GEMM, which is not available yet; use Element.F32" :
            o.Output != Element.F32 ? "an F32 GEMM writes F32 output; use Output = Element.F32" :
            null;
        if (why is not null)
        {
            found.Add(DiagnosticInfo.Create(DiagnosticDescriptors.UnsupportedElements, spec.GemmLocation, o.Element, o.Accumulate, o.Output, why));
        }
    }

    private static bool CheckSizes(GemmSpec spec, List<DiagnosticInfo> found)
    {
        int before = found.Count;
        void Positive(string what, int value, LocationInfo? where)
        {
            if (value <= 0)
            {
                found.Add(DiagnosticInfo.Create(DiagnosticDescriptors.NonPositiveSize, where, what, value));
            }
        }
        Positive("Tile.M", spec.Tile.M, spec.TileLocation);
        Positive("Tile.N", spec.Tile.N, spec.TileLocation);
        Positive("Tile.K", spec.Tile.K, spec.TileLocation);
        Positive("Warps.M", spec.Warps.M, spec.WarpsLocation);
        Positive("Warps.N", spec.Warps.N, spec.WarpsLocation);
        if (found.Count == before && spec.Warps.Count > 32)
        {
            found.Add(DiagnosticInfo.Create(DiagnosticDescriptors.TooManyThreads, spec.WarpsLocation, spec.Warps.M, spec.Warps.N, spec.Warps.Count * 32));
        }
        return found.Count == before;
    }

    private static void CheckWarpTiling(GemmSpec spec, List<DiagnosticInfo> found)
    {
        bool divides = true;
        void Divisible(string axis, int tile, int warps)
        {
            if (tile % warps != 0)
            {
                divides = false;
                int suggestion = (tile + warps - 1) / warps * warps;
                found.Add(DiagnosticInfo.Create(DiagnosticDescriptors.TileNotDivisibleByWarps, spec.TileLocation ?? spec.WarpsLocation, axis, tile, warps, suggestion));
            }
        }
        Divisible("M", spec.Tile.M, spec.Warps.M);
        Divisible("N", spec.Tile.N, spec.Warps.N);
        if (!divides)
        {
            return;
        }
        int warpTileM = spec.Tile.M / spec.Warps.M, warpTileN = spec.Tile.N / spec.Warps.N;
        if (ThreadTile.Find(warpTileM, warpTileN) is null)
        {
            int area = warpTileM * warpTileN;
            string why = area % 32 != 0
                ? $"its {area} elements are not a multiple of 32; make the warp tile larger or use fewer warps"
                : area / 32 > ThreadTile.MaxAccumulators
                    ? $"each thread would hold {area / 32} accumulators; use more warps or a smaller tile"
                    : "no power-of-two arrangement of lanes divides both sides; use power-of-two tile sides";
            found.Add(DiagnosticInfo.Create(DiagnosticDescriptors.ThreadTileNotExpressible, spec.TileLocation ?? spec.WarpsLocation,
                warpTileM, warpTileN, ThreadTile.MaxAccumulators, ThreadTile.MaxSide, why));
        }
    }

    private static bool CheckStages(GemmSpec spec, List<DiagnosticInfo> found)
    {
        if (spec.Stages >= 1 && spec.Stages <= MaxStages)
        {
            return true;
        }
        found.Add(DiagnosticInfo.Create(DiagnosticDescriptors.StagesOutOfRange, spec.PipelineLocation, spec.Stages, MaxStages));
        return false;
    }

    private static void CheckSharedMemory(GemmSpec spec, List<DiagnosticInfo> found)
    {
        var (a, b) = GemmPlanner.Copies(spec);
        long perStage = CudaGemmPlan.SharedBytesPerStageOf(spec.Tile.M, spec.Tile.N, spec.Tile.K, a, b);
        long total = perStage * spec.Stages;
        if (total > SharedMemoryLimitBytes)
        {
            found.Add(DiagnosticInfo.Create(DiagnosticDescriptors.SharedMemoryOverLimit, spec.PipelineLocation ?? spec.TileLocation,
                spec.Stages, perStage, total, SharedMemoryLimitBytes, SharedMemoryLimitArch));
        }
    }
}
