using KernelDsl.Generator.Model;
using KernelDsl.Generator.Parsing;
using KernelDsl.Generator.Planning;

namespace KernelDsl.Generator.Emitting.Launch;

/// <summary>Wording and .NET types shared by the printers of a GEMM's public members.</summary>
internal static class GemmSurface
{
    /// <summary>The .NET type a user passes for an element: float, System.Half or KernelDsl.BFloat16.</summary>
    public static string ClrType(Element element) => element switch
    {
        Element.F16 => "global::System.Half",
        Element.BF16 => "global::KernelDsl.BFloat16",
        _ => "float",
    };

    /// <summary>The call of a dense overload as run-time arguments: leading dimensions from the sizes.</summary>
    public const string DenseArguments = "global::KernelDsl.Cpu.GemmArguments.Dense(Info, m, n, k, alpha, beta)";

    /// <summary>The call of a leading-dimension overload as run-time arguments.</summary>
    public const string StridedArguments = "global::KernelDsl.Cpu.GemmArguments.Strided(Info, m, n, k, lda, ldb, ldc, alpha, beta)";

    /// <summary>The operands' stored shapes, for the entry points' documentation, e.g. <c>A is M×K, B is N×K, C is M×N, all row-major</c>.</summary>
    public static string Shapes(GemmOperands o) =>
        $"A is {(o.TransposeA ? "K×M" : "M×K")}, B is {(o.TransposeB ? "N×K" : "K×N")}, C is M×N, all row-major";

    public static string EpilogueFormula(GemmPlan plan) => Activated(plan, "α·op(A)·op(B) + " + Accumulated(plan));

    /// <summary>What every entry point does with zero sizes (BLAS's rules), for its documentation.</summary>
    public static string ZeroSizes(GemmPlan plan) =>
        $"Sizes may be 0, as in BLAS: with M or N = 0 nothing is done; with K = 0 the product is 0 whatever α is, so C ← {Activated(plan, Accumulated(plan))}.";

    private static string Accumulated(GemmPlan plan) => "β·C" + (plan.Epilogue.Bias ? " + bias" : "");

    private static string Activated(GemmPlan plan, string inner) =>
        plan.Epilogue.Activation == Model.Activation.None ? inner : plan.Epilogue.Activation.ToString().ToLowerInvariant() + "(" + inner + ")";
}
