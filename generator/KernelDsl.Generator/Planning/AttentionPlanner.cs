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
    /// <summary>O and S accumulators per thread; with fragments and addresses this stays under 255 registers.</summary>
    public const int AccumulatorBudget = CudaAttentionPlan.LiveValueTarget;

    /// <summary>Registers beside the live values of <see cref="CudaAttentionPlan.AccumulatorsPerThread"/>, at least (ptxas allocates 60–100 more).</summary>
    private const int FixedRegisters = 56;

    /// <summary>
    /// Tile sides tried, in order, for a [Tile] side the user left unset: FlashAttention-2's 128 × 64 first, then
    /// smaller ones until one fits the budgets (fp32 with d = 128 needs KV = 32 within sm_80's shared memory).
    /// </summary>
    private static readonly int[] QCandidates = [128, 64, 32, 16];

    private static readonly int[] KvCandidates = [64, 32, 16];

    /// <summary>
    /// The first tile of the candidates (only the written side where the user set one) that plans; if none does, the
    /// diagnostics of the first candidate, the attribute's default.
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
                var planned = PlanTile(spec, q, kv);
                if (planned.Plan is not null)
                {
                    return planned;
                }
                first ??= planned;
            }
        }
        return first!;
    }

    /// <summary>Validation guarantees a positive tile within range, 1 to 32 warps, a head dimension in range and defined enums.</summary>
    private static Planned<AttentionPlan> PlanTile(AttentionSpec spec, int tileQ, int tileKv)
    {
        var found = new Findings();
        var where = spec.Attributes.TileLocation ?? spec.WarpsLocation ?? spec.AttentionLocation;
        bool tensorCores = UsesTensorCores(spec.Element);
        if (!found.Divides("Q", tileQ, spec.Warps, tensorCores ? 16 : 1, where))
        {
            return Planned<AttentionPlan>.Rejected(found);
        }
        int rowsPerWarp = tileQ / spec.Warps;
        if (tileKv % 16 != 0)
        {
            found.Add(DiagnosticDescriptors.AttentionTileNotMmaMultiple, where, $"Tile.KV = {tileKv} keys per step must be a multiple of 16");
        }
        if (tensorCores && rowsPerWarp % 16 != 0)
        {
            found.Add(DiagnosticDescriptors.AttentionTileNotMmaMultiple, where,
                $"each of the {spec.Warps} warps owns {rowsPerWarp} query rows; tensor-core MMAs need a multiple of 16");
        }
        if (found.Count > 0)
        {
            return Planned<AttentionPlan>.Rejected(found);
        }

        var cuda = new CudaAttentionPlan(tileQ, tileKv, spec.Warps, spec.HeadDim, tensorCores, ElementBytes(spec.Element));
        int accumulators = cuda.AccumulatorsPerThread;
        if (accumulators > AccumulatorBudget)
        {
            found.Add(DiagnosticDescriptors.ThreadTileNotExpressible, where, rowsPerWarp, spec.HeadDim + tileKv, AccumulatorBudget,
                $"each thread would hold {accumulators} fp32 accumulators for O and S; use more warps or smaller Tile(Q, KV)");
        }
        else
        {
            found.RegistersFit(accumulators + FixedRegisters, cuda.Threads, rowsPerWarp, spec.HeadDim, where,
                $"{accumulators} live values of O, S and Q");
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
            cuda));
    }

    public static bool UsesTensorCores(Element element) => element is Element.F16 or Element.BF16;

    public static int ElementBytes(Element element) => element == Element.F32 ? 4 : 2;
}
