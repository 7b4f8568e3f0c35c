using System;
using KernelDsl.Generator.Diagnostics;
using KernelDsl.Generator.Model;
using KernelDsl.Generator.Parsing;
using KernelDsl.Generator.Validation;

namespace KernelDsl.Generator.Planning;

/// <summary>
/// Derives an <see cref="AttentionPlan"/> from a validated <see cref="AttentionSpec"/>, or the diagnostics that say
/// why the requested tiling does not exist.
/// </summary>
internal static class AttentionPlanner
{
    /// <summary>Live values per thread (<see cref="CudaAttentionPlan.LiveValuesPerThread"/>); with addresses and loop state this stays under 255 registers.</summary>
    public const int LiveValueBudget = CudaAttentionPlan.LiveValueTarget;

    /// <summary>Registers beside the live values of <see cref="CudaAttentionPlan.LiveValuesPerThread"/>, at least (ptxas allocates more; docs/BENCHMARKS.md has its counts).</summary>
    private const int FixedRegisters = 56;

    /// <summary>
    /// Tile sides tried, in order, for a [Tile] side the user left unset: FlashAttention-2's 128 × 64 first, then
    /// smaller ones until one fits the budgets (fp32 with d = 128 needs KV = 32 within sm_80's shared memory).
    /// </summary>
    private static readonly int[] QCandidates = [128, 64, 32, 16];

    private static readonly int[] KvCandidates = [64, 32, 16];

    /// <summary>
    /// The first tile of the candidates (only the written side where the user set one) that plans; if none does, the
    /// diagnostics of the first candidate, the attribute's default. With [Warps] unset on tensor cores, each tile tries
    /// FlashAttention-2's 32-row warp tile first and keeps it when its key step covers the whole KV tile (one online-
    /// softmax rescale per tile; the rows share every K and V fragment between two MMA row tiles); otherwise 16 rows per
    /// warp, whose smaller O leaves room for the long key step.
    /// </summary>
    public static Planned<AttentionPlan> Plan(AttentionSpec spec)
    {
        int[] qs = spec.Attributes.TileProperties.AsImmutableArray().Contains("Q") ? [spec.TileQ] : QCandidates;
        int[] kvs = spec.Attributes.TileProperties.AsImmutableArray().Contains("KV") ? [spec.TileKv] : KvCandidates;
        Planned<AttentionPlan>? first = null;
        foreach (int q in qs)
        {
            foreach (int kv in kvs)
            {
                int[] warps = WarpCandidates(spec, q);
                for (int i = 0; i < warps.Length; i++)
                {
                    var planned = PlanTile(spec, q, kv, warps[i]);
                    if (planned.Plan is { } plan && (i == warps.Length - 1 || plan.Cuda.KeyStep == kv))
                    {
                        return planned;
                    }
                    first ??= planned;
                }
            }
        }
        return first!;
    }

    /// <summary>The written warp count; unset on tensor cores, 32 then 16 query rows per warp (where they divide the tile).</summary>
    private static int[] WarpCandidates(AttentionSpec spec, int tileQ)
    {
        if (spec.WarpsLocation is not null || !UsesTensorCores(spec.Element))
        {
            return [spec.Warps];
        }
        var counts = new System.Collections.Generic.List<int>();
        foreach (int rows in new[] { 32, 16 })
        {
            if (tileQ % rows == 0 && tileQ / rows * 32 <= ArchitectureLimits.MaxThreadsPerBlock)
            {
                counts.Add(tileQ / rows);
            }
        }
        return counts.Count > 0 ? counts.ToArray() : [spec.Warps];
    }

    /// <summary>Validation guarantees a positive tile within range, 1 to 32 warps, a head dimension in range and defined enums.</summary>
    private static Planned<AttentionPlan> PlanTile(AttentionSpec spec, int tileQ, int tileKv, int warps)
    {
        var found = new Findings();
        var where = spec.Attributes.TileLocation ?? spec.WarpsLocation ?? spec.AttentionLocation;
        bool tensorCores = UsesTensorCores(spec.Element);
        if (!found.Divides("Q", tileQ, warps, tensorCores ? 16 : 1, where))
        {
            return Planned<AttentionPlan>.Rejected(found);
        }
        int rowsPerWarp = tileQ / warps;
        if (tileKv % 16 != 0)
        {
            found.Add(DiagnosticDescriptors.AttentionTileNotMmaMultiple, where, $"Tile.KV = {tileKv} keys per step must be a multiple of 16");
        }
        if (tensorCores && rowsPerWarp % 16 != 0)
        {
            found.Add(DiagnosticDescriptors.AttentionTileNotMmaMultiple, where,
                $"each of the {warps} warps owns {rowsPerWarp} query rows; tensor-core MMAs need a multiple of 16");
        }
        if (found.Count > 0)
        {
            return Planned<AttentionPlan>.Rejected(found);
        }

        var cuda = new CudaAttentionPlan(tileQ, tileKv, warps, spec.HeadDim, tensorCores, ElementBytes(spec.Element));
        int live = cuda.LiveValuesPerThread;
        if (live > LiveValueBudget)
        {
            found.Add(DiagnosticDescriptors.ThreadTileNotExpressible, where, rowsPerWarp, spec.HeadDim + tileKv, LiveValueBudget,
                $"each thread would hold {live} live values of O, S and their operands; use more warps or smaller Tile(Q, KV)");
        }
        else
        {
            found.RegistersFit(live + FixedRegisters, cuda.Threads, rowsPerWarp, spec.HeadDim, where,
                $"{live} live values of O, S and their operands");
        }
        long shared = cuda.SharedBytes;
        int limit = ArchitectureLimits.MaxSharedBytesPerBlock(ArchitectureLimits.PlannedArch);
        if (shared > limit)
        {
            long qBytes = (long)tileQ * spec.HeadDim * cuda.ElementBytes, kvBytes = 2L * tileKv * spec.HeadDim * cuda.ElementBytes;
            found.Add(DiagnosticDescriptors.SharedMemoryOverLimit, where, shared,
                $"a {qBytes}-byte Q tile + {CudaAttentionPlan.KvStages} stages × {kvBytes} bytes of K and V",
                limit, ArchitectureLimits.PlannedArch, "reduce Tile(Q, KV)");
        }
        if (found.Count > 0)
        {
            return Planned<AttentionPlan>.Rejected(found);
        }

        return Planned<AttentionPlan>.Of(new AttentionPlan(
            spec.Kernel,
            EntryPointName.For("kd_attn_step_", spec.Kernel),
            EntryPointName.For("kd_attn_finalize_", spec.Kernel),
            spec.HeadDim,
            spec.Element,
            spec.Causal,
            spec.Scale > 0 ? spec.Scale : (float)(1.0 / Math.Sqrt(spec.HeadDim)),
            spec.Layout,
            spec.Buffers,
            cuda,
            (EntryPointName.For("kd_attn_bwd_step_", spec.Kernel), EntryPointName.For("kd_attn_bwd_delta_", spec.Kernel),
                EntryPointName.For("kd_attn_bwd_gradient_", spec.Kernel)),
            CudaAttentionBackwardPlan.For(spec.HeadDim, tensorCores, limit)));
    }

    public static bool UsesTensorCores(Element element) => element is Element.F16 or Element.BF16;

    public static int ElementBytes(Element element) => element == Element.F32 ? 4 : 2;
}
