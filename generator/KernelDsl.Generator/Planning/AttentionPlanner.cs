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
        new[] { PlanCpu(CpuIsa.Vector512), PlanCpu(CpuIsa.Vector256), PlanCpu(CpuIsa.Vector128), PlanCpu(CpuIsa.Scalar) }.ToEquatableArray());

    public static bool UsesTensorCores(Element element) => element is Element.F16 or Element.BF16;

    public static int ElementBytes(Element element) => element == Element.F32 ? 4 : 2;

    /// <summary>
    /// The CPU kernel keeps a KvRows×d block of K and of V (fp32, 2·64·d·4 bytes: 64 KiB at d = 128)
    /// in L2 while QRows query rows stream against it; QRows = 4 rows share every K and V load, and
    /// their S rows (4×64 floats) stay in L1. Both are independent of the ISA: only the vector width
    /// over d changes.
    /// </summary>
    private static CpuAttentionBlocking PlanCpu(CpuIsa isa) => new(isa, isa switch
    {
        CpuIsa.Vector512 => 16,
        CpuIsa.Vector256 => 8,
        CpuIsa.Vector128 => 4,
        _ => 1,
    }, QRows: 4, KvRows: 64);
}
