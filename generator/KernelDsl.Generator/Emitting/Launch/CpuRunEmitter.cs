using KernelDsl.Generator.Emitting.Simd;
using KernelDsl.Generator.Planning;

namespace KernelDsl.Generator.Emitting.Launch;

/// <summary>Prints the public CPU entry points of a GEMM: <c>Run</c>, dense and with leading dimensions.</summary>
internal static class CpuRunEmitter
{
    /// <summary>Two overloads: dense row-major operands, and explicit leading dimensions.</summary>
    public static void Emit(CodeWriter w, GemmPlan plan)
    {
        var o = plan.Operands;
        bool bias = plan.Epilogue.Bias;
        string biasParameter = bias ? " global::System.ReadOnlySpan<float> bias," : "";
        string biasArgument = bias ? " bias," : "";
        string shapes = $"A is {(o.TransposeA ? "K×M" : "M×K")}, B is {(o.TransposeB ? "N×K" : "K×N")}, C is M×N, all row-major";

        w.Line("/// <summary>");
        w.Line($"/// C ← {GemmSurface.EpilogueFormula(plan)} on the CPU fallback; {shapes} and dense.");
        w.Line("/// β = 0 never reads C. Uses every core and the widest vectors this machine accelerates.");
        w.Line("/// </summary>");
        w.Line("/// <param name=\"isa\">Forces a vector width (tests, comparisons); null picks the widest accelerated one.</param>");
        w.Line("/// <exception cref=\"global::System.ArgumentException\">A size is negative or a span is too short; the message names it.</exception>");
        w.Line($"public static void Run(global::System.ReadOnlySpan<float> a, global::System.ReadOnlySpan<float> b, global::System.Span<float> c, int m, int n, int k,{biasParameter} float alpha = 1f, float beta = 0f, global::KernelDsl.Cpu.CpuIsa? isa = null)");
        w.Line($"    => Run(a, {(o.TransposeA ? "m" : "k")}, b, {(o.TransposeB ? "k" : "n")}, c, n, m, n, k,{biasArgument} alpha, beta, isa);");
        w.Line();
        w.Line("/// <summary>");
        w.Line($"/// C ← {GemmSurface.EpilogueFormula(plan)} on the CPU fallback; {shapes}, rows <paramref name=\"lda\"/>,");
        w.Line("/// <paramref name=\"ldb\"/> and <paramref name=\"ldc\"/> elements apart. β = 0 never reads C.");
        w.Line("/// </summary>");
        w.Line("/// <param name=\"isa\">Forces a vector width (tests, comparisons); null picks the widest accelerated one.</param>");
        w.Line("/// <exception cref=\"global::System.ArgumentException\">A size is negative, a leading dimension too small or a span too short; the message names it.</exception>");
        w.Open($"public static void Run(global::System.ReadOnlySpan<float> a, int lda, global::System.ReadOnlySpan<float> b, int ldb, global::System.Span<float> c, int ldc, int m, int n, int k,{biasParameter} float alpha, float beta, global::KernelDsl.Cpu.CpuIsa? isa = null)");
        w.Line($"var arguments = new global::KernelDsl.Cpu.GemmArguments(m, n, k, lda, ldb, ldc, alpha, beta, TransposeA: {GemmLaunchEmitter.Bool(o.TransposeA)}, TransposeB: {GemmLaunchEmitter.Bool(o.TransposeB)}, HasBias: {GemmLaunchEmitter.Bool(bias)});");
        w.Line($"global::System.ReadOnlySpan<float> biasValues = {(bias ? "bias" : "default")};");
        w.Open("switch (isa ?? global::KernelDsl.Cpu.CpuFeatures.Best)");
        foreach (var blocking in plan.Cpu)
        {
            string kernel = SimdGemmEmitter.KernelTypeName(blocking.Isa);
            w.Line($"case global::KernelDsl.Cpu.CpuIsa.{blocking.Isa}: global::KernelDsl.Cpu.CpuGemm.Run<{kernel}>(a, b, c, biasValues, arguments); break;");
        }
        w.Line("default: throw new global::System.ArgumentOutOfRangeException(nameof(isa));");
        w.Close();
        w.Close();
        w.Line();
    }
}
