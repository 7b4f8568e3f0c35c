using KernelDsl.Generator.Model;
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

    public static string EpilogueFormula(GemmPlan plan)
    {
        string inner = "α·op(A)·op(B) + β·C" + (plan.Epilogue.Bias ? " + bias" : "");
        return plan.Epilogue.Activation == Model.Activation.None ? inner : plan.Epilogue.Activation.ToString().ToLowerInvariant() + "(" + inner + ")";
    }
}
