using KernelDsl.Generator.Emitting.Simd;
using KernelDsl.Generator.Planning;

namespace KernelDsl.Generator.Emitting.Launch;

/// <summary>Prints the public CPU entry points of a GEMM: <c>Run</c>, dense and with leading dimensions.</summary>
internal static class CpuRunEmitter
{
    /// <summary>
    /// Two overloads: dense row-major operands, and explicit leading dimensions. A and B are spans of
    /// the operand type, C and the bias of the output type (<see cref="CpuElements"/>). Both describe the call as a
    /// <c>GemmArguments</c> (the runtime derives and checks the leading dimensions) and hand it to one private
    /// <c>RunCpu</c>, which names the kernel's operand layouts and epilogue to the runtime's <c>CpuGemm</c>.
    /// </summary>
    public static void Emit(CodeWriter w, GemmPlan plan)
    {
        var o = plan.Operands;
        var elements = CpuElements.Of(o);
        string input = $"global::System.ReadOnlySpan<{elements.InputType}>";
        string output = $"global::System.Span<{elements.OutputType}>";
        bool bias = plan.Epilogue.Bias;
        string biasParameter = bias ? $" global::System.ReadOnlySpan<{elements.OutputType}> bias," : "";
        string biasArgument = bias ? "bias" : "default";
        string shapes = GemmSurface.Shapes(o);
        const string isaDoc = "/// <param name=\"isa\">Forces a vector width (tests, comparisons); null picks the widest accelerated one.</param>";

        w.Line("/// <summary>");
        w.Line($"/// C ← {GemmSurface.EpilogueFormula(plan)} on the CPU fallback; {shapes} and dense.");
        w.Line("/// β = 0 never reads C. Uses every core and the widest vectors this machine accelerates.");
        w.Line($"/// {GemmSurface.ZeroSizes(plan)}");
        EmitConversions(w, elements);
        w.Line("/// </summary>");
        w.Line(isaDoc);
        w.Line("/// <exception cref=\"global::System.ArgumentException\">A size is negative or a span is too short; the message names it.</exception>");
        w.Line($"public static void Run({input} a, {input} b, {output} c, int m, int n, int k,{biasParameter} float alpha = 1f, float beta = 0f, global::KernelDsl.Cpu.CpuIsa? isa = null)");
        w.Line($"    => RunCpu(a, b, c, {biasArgument}, {GemmSurface.DenseArguments}, isa);");
        w.Line();
        w.Line("/// <summary>");
        w.Line($"/// C ← {GemmSurface.EpilogueFormula(plan)} on the CPU fallback; {shapes}, rows <paramref name=\"lda\"/>,");
        w.Line("/// <paramref name=\"ldb\"/> and <paramref name=\"ldc\"/> elements apart. β = 0 never reads C.");
        w.Line($"/// {GemmSurface.ZeroSizes(plan)}");
        EmitConversions(w, elements);
        w.Line("/// </summary>");
        w.Line(isaDoc);
        w.Line("/// <exception cref=\"global::System.ArgumentException\">A size is negative, a leading dimension too small or a span too short; the message names it.</exception>");
        w.Line($"public static void Run({input} a, int lda, {input} b, int ldb, {output} c, int ldc, int m, int n, int k,{biasParameter} float alpha = 1f, float beta = 0f, global::KernelDsl.Cpu.CpuIsa? isa = null)");
        w.Line($"    => RunCpu(a, b, c, {biasArgument}, {GemmSurface.StridedArguments}, isa);");
        w.Line();
        string layoutA = o.TransposeA ? "Transposed" : "RowMajor", layoutB = o.TransposeB ? "Transposed" : "RowMajor";
        w.Line("/// <summary>Both <c>Run</c> overloads and <c>Kernel.Run</c>: the runtime's CPU GEMM with this kernel's layouts and epilogue (it validates <paramref name=\"arguments\"/>).</summary>");
        w.Line($"private static void RunCpu({input} a, {input} b, {output} c, global::System.ReadOnlySpan<{elements.OutputType}> bias, global::KernelDsl.Cpu.GemmArguments arguments, global::KernelDsl.Cpu.CpuIsa? isa)");
        w.Line($"    => global::KernelDsl.Cpu.CpuGemm.Run<global::KernelDsl.Cpu.{layoutA}, global::KernelDsl.Cpu.{layoutB}, {GemmEpilogueEmitter.TypeName}, {elements.InputType}, {elements.OutputType}>(a, b, c, bias, arguments, isa);");
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
