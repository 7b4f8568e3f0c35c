using KernelDsl.Generator.Emitting.Cuda;
using KernelDsl.Generator.Emitting.Simd;
using KernelDsl.Generator.Planning;

namespace KernelDsl.Generator.Emitting.Launch;

/// <summary>
/// Prints the <c>.g.cs</c> file of one ring-attention kernel: <c>CudaSource</c>, the entry points,
/// <c>Info</c>, the ring entry points, the <c>Kernel</c> type and the CPU scores struct the runtime's block kernels take.
/// </summary>
internal static class AttentionLaunchEmitter
{
    public static string Emit(AttentionPlan plan) => KernelFile.Write(plan.Kernel, w =>
    {
        KernelFile.CudaSource(w, CudaAttentionEmitter.Emit(plan),
            "One ring step launches <see cref=\"StepEntryPoint\"/>; after the last, <see cref=\"FinalizeEntryPoint\"/> writes O and L.");
        w.Line("/// <summary>The CUDA kernel of one ring step in <see cref=\"CudaSource\"/>.</summary>");
        w.Line("public const string StepEntryPoint = \"" + plan.StepEntryPoint + "\";");
        w.Line();
        w.Line("/// <summary>The CUDA kernel that writes O and L after the last step.</summary>");
        w.Line("public const string FinalizeEntryPoint = \"" + plan.FinalizeEntryPoint + "\";");
        w.Line();
        EmitInfo(w, plan);
        AttentionCudaLaunchEmitter.Emit(w, plan);
        AttentionBackwardCudaLaunchEmitter.Emit(w, plan);
        AttentionRingEmitter.Emit(w, plan);
        KernelTypeEmitter.EmitAttention(w, plan);
        AttentionScoresEmitter.Emit(w, plan);
    });

    private static void EmitInfo(CodeWriter w, AttentionPlan plan)
    {
        var c = plan.Cuda;
        w.Line("/// <summary>The plan the generator chose: tiles, warps, shared memory (the CPU blocking is the runtime's).</summary>");
        w.Line("public static global::KernelDsl.AttentionInfo Info { get; } = new(");
        w.Line($"    \"{plan.Kernel.QualifiedName}\", StepEntryPoint, FinalizeEntryPoint,");
        w.Line($"    HeadDim: {plan.HeadDim}, global::KernelDsl.Element.{plan.Element}, Causal: {Literals.Bool(plan.Causal)}, Scale: {Literals.Float(plan.Scale)},");
        w.Line($"    global::KernelDsl.Ring.RingLayout.{plan.Layout}, Buffers: {plan.Buffers},");
        if (plan.CudaBackward is { } b)
        {
            var e = plan.BackwardEntryPoints;
            w.Line($"    TileQ: {c.TileQ}, TileKv: {c.TileKv}, Warps: {c.Warps}, SharedMemoryBytes: {c.SharedBytes})");
            w.Line("{");
            w.Line($"    Backward = new(\"{e.Step}\", \"{e.Delta}\", \"{e.Gradient}\", TileQ: {b.TileQ}, TileKv: {b.TileKv}, Warps: {b.Warps}, SharedMemoryBytes: {b.SharedBytes}),");
            w.Line("};");
        }
        else
        {
            w.Line($"    TileQ: {c.TileQ}, TileKv: {c.TileKv}, Warps: {c.Warps}, SharedMemoryBytes: {c.SharedBytes});");
        }
        w.Line();
    }
}
