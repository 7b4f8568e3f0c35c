using System;
using KernelDsl.Generator.Model;
using KernelDsl.Generator.Parsing;

namespace KernelDsl.Generator.Planning;

/// <summary>Derives an <see cref="AttentionPlan"/> from a validated <see cref="AttentionSpec"/>.</summary>
internal static class AttentionPlanner
{
    public static AttentionPlan Plan(AttentionSpec spec) => new(
        spec.Kernel,
        EntryPointName.For("kd_attn_step_", spec.Kernel),
        EntryPointName.For("kd_attn_finalize_", spec.Kernel),
        spec.HeadDim,
        spec.Element,
        spec.Causal,
        spec.Scale > 0 ? spec.Scale : (float)(1.0 / Math.Sqrt(spec.HeadDim)),
        spec.Layout,
        spec.Buffers,
        new CudaAttentionPlan(spec.TileQ, spec.TileKv, spec.Warps, spec.HeadDim, UsesTensorCores(spec.Element), ElementBytes(spec.Element)),
        new[] { PlanCpu(CpuIsa.Vector512, spec.HeadDim), PlanCpu(CpuIsa.Vector256, spec.HeadDim), PlanCpu(CpuIsa.Vector128, spec.HeadDim), PlanCpu(CpuIsa.Scalar, spec.HeadDim) }.ToEquatableArray());

    public static bool UsesTensorCores(Element element) => element is Element.F16 or Element.BF16;

    public static int ElementBytes(Element element) => element == Element.F32 ? 4 : 2;

    /// <summary>
    /// The CPU kernel: a task of TaskRows = 64 query rows of one head walks the K/V shard KvRows = 64 keys at a
    /// time; each K/V tile (fp32, 2·64·d·4 bytes: 64 KiB at d = 128) stays in L2 while the task's QRows = 4 row
    /// blocks stream against it, and their S rows (4×64 floats) stay in L1. QRows and KvRows are independent of
    /// the ISA; the register tiles (S: QRows × ScoreVectors, O: QRows × OutputVectors) are the largest that
    /// divide the tile and fit the ISA's registers with their operand loads and one broadcast.
    /// </summary>
    private static CpuAttentionBlocking PlanCpu(CpuIsa isa, int headDim)
    {
        const int qRows = 4, kvRows = 64, taskRows = 64;
        int lanes = isa switch
        {
            CpuIsa.Vector512 => 16,
            CpuIsa.Vector256 => 8,
            CpuIsa.Vector128 => 4,
            _ => 1,
        };
        int registers = isa == CpuIsa.Vector512 ? 32 : 16;
        return new CpuAttentionBlocking(isa, lanes, qRows, kvRows, registers,
            ScoreVectors: RegisterTile(kvRows / lanes, qRows, registers),
            OutputVectors: RegisterTile(headDim / lanes, qRows, registers),
            taskRows,
            // About 0.1 ms of one core: below it, handing work to another thread costs more than it saves.
            ParallelFlops: 1L << 23);
    }

    /// <summary>The most vectors (dividing <paramref name="vectors"/>) a rows × n accumulator tile can have with n loads and one broadcast live.</summary>
    private static int RegisterTile(int vectors, int rows, int registers)
    {
        for (int n = vectors; n > 1; n--)
        {
            if (vectors % n == 0 && rows * n + n + 1 <= registers)
            {
                return n;
            }
        }
        return 1;
    }
}
