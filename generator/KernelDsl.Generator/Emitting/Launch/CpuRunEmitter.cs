using KernelDsl.Generator.Emitting.Simd;
using KernelDsl.Generator.Planning;

namespace KernelDsl.Generator.Emitting.Launch;

/// <summary>Prints the public CPU entry points of a GEMM: <c>Run</c>, dense and with leading dimensions.</summary>
internal static class CpuRunEmitter
{
    /// <summary>
    /// Two overloads: dense row-major operands, and explicit leading dimensions. A and B are spans of
    /// the operand type, C and the bias of the output type (<see cref="CpuElements"/>).
    /// </summary>
    public static void Emit(CodeWriter w, GemmPlan plan)
    {
        var o = plan.Operands;
        var elements = CpuElements.Of(o);
        string input = $"global::System.ReadOnlySpan<{elements.InputType}>";
        string output = $"global::System.Span<{elements.OutputType}>";
        bool bias = plan.Epilogue.Bias;
        string biasParameter = bias ? $" global::System.ReadOnlySpan<{elements.OutputType}> bias," : "";
        string biasArgument = bias ? " bias," : "";
        string shapes = $"A is {(o.TransposeA ? "K×M" : "M×K")}, B is {(o.TransposeB ? "N×K" : "K×N")}, C is M×N, all row-major";

        w.Line("/// <summary>");
        w.Line($"/// C ← {GemmSurface.EpilogueFormula(plan)} on the CPU fallback; {shapes} and dense.");
        w.Line("/// β = 0 never reads C. Uses every core and the widest vectors this machine accelerates.");
        EmitConversions(w, elements);
        w.Line("/// </summary>");
        w.Line("/// <param name=\"isa\">Forces a vector width (tests, comparisons); null picks the widest accelerated one.</param>");
        w.Line("/// <exception cref=\"global::System.ArgumentException\">A size is negative or a span is too short; the message names it.</exception>");
        w.Line($"public static void Run({input} a, {input} b, {output} c, int m, int n, int k,{biasParameter} float alpha = 1f, float beta = 0f, global::KernelDsl.Cpu.CpuIsa? isa = null)");
        w.Line($"    => Run(a, {(o.TransposeA ? "m" : "k")}, b, {(o.TransposeB ? "k" : "n")}, c, n, m, n, k,{biasArgument} alpha, beta, isa);");
        w.Line();
        w.Line("/// <summary>");
        w.Line($"/// C ← {GemmSurface.EpilogueFormula(plan)} on the CPU fallback; {shapes}, rows <paramref name=\"lda\"/>,");
        w.Line("/// <paramref name=\"ldb\"/> and <paramref name=\"ldc\"/> elements apart. β = 0 never reads C.");
        EmitConversions(w, elements);
        w.Line("/// </summary>");
        w.Line("/// <param name=\"isa\">Forces a vector width (tests, comparisons); null picks the widest accelerated one.</param>");
        w.Line("/// <exception cref=\"global::System.ArgumentException\">A size is negative, a leading dimension too small or a span too short; the message names it.</exception>");
        w.Open($"public static void Run({input} a, int lda, {input} b, int ldb, {output} c, int ldc, int m, int n, int k,{biasParameter} float alpha, float beta, global::KernelDsl.Cpu.CpuIsa? isa = null)");
        w.Line($"var arguments = new global::KernelDsl.Cpu.GemmArguments(m, n, k, lda, ldb, ldc, alpha, beta, TransposeA: {GemmLaunchEmitter.Bool(o.TransposeA)}, TransposeB: {GemmLaunchEmitter.Bool(o.TransposeB)}, HasBias: {GemmLaunchEmitter.Bool(bias)});");
        w.Line($"global::System.ReadOnlySpan<{elements.OutputType}> biasValues = {(bias ? "bias" : "default")};");
        w.Open("switch (isa ?? global::KernelDsl.Cpu.CpuFeatures.Best)");
        foreach (var blocking in plan.Cpu)
        {
            string kernel = elements.DriverTypeArguments(SimdGemmEmitter.KernelTypeName(blocking.Isa));
            w.Line($"case global::KernelDsl.Cpu.CpuIsa.{blocking.Isa}: global::KernelDsl.Cpu.CpuGemm.Run<{kernel}>(a, b, c, biasValues, arguments); break;");
        }
        w.Line("default: throw new global::System.ArgumentOutOfRangeException(nameof(isa));");
        w.Close();
        w.Close();
        w.Line();
    }

    /// <summary>How 16-bit elements are computed; nothing for fp32.</summary>
    private static void EmitConversions(CodeWriter w, CpuElements elements)
    {
        if (elements.WidensInput)
        {
            w.Line($"/// A and B (<see cref=\"{elements.InputType}\"/>) are widened to fp32 while packing; products accumulate in fp32.");
        }
        if (elements.ConvertsOutput)
        {
            w.Line($"/// C and the bias are <see cref=\"{elements.OutputType}\"/>: C is rounded to nearest even once, from the fp32 result.");
        }
    }
}
