using KernelDsl.Generator.Emitting.Launch;
using KernelDsl.Generator.Planning;

namespace KernelDsl.Generator.Emitting.Simd;

/// <summary>
/// Prints the one part of a ring-attention kernel's CPU fallback that is specific to the kernel: its head dimension and
/// scale, as a <c>private readonly struct CpuScores : global::KernelDsl.Ring.IAttentionScores</c>. The runtime's
/// <c>CpuRingAttention</c> supplies the block kernels (register tiles per vector width, packing, masks, online softmax,
/// merge) and takes this struct as a type argument, so both values are JIT-time constants there.
/// </summary>
internal static class AttentionScoresEmitter
{
    public const string TypeName = "CpuScores";

    /// <summary>Prints the struct; called inside the generated partial class.</summary>
    public static void Emit(CodeWriter w, AttentionPlan plan)
    {
        w.Line("/// <summary>This kernel's head dimension and softmax scale, for the runtime's CPU block kernels.</summary>");
        w.Open($"private readonly struct {TypeName} : global::KernelDsl.Ring.IAttentionScores");
        w.Line($"public static int HeadDim => {Literals.Int(plan.HeadDim)};");
        w.Line($"public static float Scale => {Literals.Float(plan.Scale)};");
        w.Line($"public static float ScaleLog2 => {Literals.Float(plan.ScaleLog2)};  // Scale·log₂e: scores in log₂ units, probabilities by exp2");
        w.Close();
    }
}
