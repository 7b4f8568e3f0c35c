using KernelDsl.Generator.Model;
using KernelDsl.Generator.Parsing;
using KernelDsl.Generator.Planning;

namespace KernelDsl.Generator.Emitting.Simd;

/// <summary>
/// Prints the one part of a GEMM's CPU fallback that is specific to the kernel: its epilogue after α and β, as a
/// <c>private readonly struct CpuEpilogue : global::KernelDsl.Cpu.IGemmEpilogue</c> with one <c>Finish</c> per vector
/// width (bias and activation). The runtime's <c>CpuGemm</c> supplies the microkernels, packing, blocking and threads,
/// and plugs this struct into each microkernel as a type argument.
/// </summary>
internal static class GemmEpilogueEmitter
{
    public const string TypeName = "CpuEpilogue";

    private const string Intrinsics = "global::System.Runtime.Intrinsics.";

    private static readonly string[] VectorTypes =
    {
        Intrinsics + "Vector512<float>", Intrinsics + "Vector256<float>", Intrinsics + "Vector128<float>", "float",
    };

    /// <summary>Prints the struct; called inside the generated partial class.</summary>
    public static void Emit(CodeWriter w, GemmPlan plan)
    {
        var epilogue = plan.Epilogue;
        w.Line($"/// <summary>The CPU fallback's epilogue after x = α·acc + β·c, on every vector width: x ← {Formula(epilogue)}.</summary>");
        w.Open($"private readonly struct {TypeName} : global::KernelDsl.Cpu.IGemmEpilogue");
        w.Line($"public static bool ReadsBias => {Literals.Bool(epilogue.Bias)};");
        foreach (string vector in VectorTypes)
        {
            w.Line($"public static {vector} Finish({vector} x, {vector} bias) => {Body(epilogue)};");
        }
        w.Close();
    }

    /// <summary>The epilogue as a formula of x, for comments.</summary>
    private static string Formula(EpilogueSpec epilogue) => Apply(epilogue, epilogue.Activation.ToString().ToLowerInvariant());

    /// <summary>The same formula as C#: the activations are the runtime's <c>CpuActivation</c>, overloaded per width.</summary>
    private static string Body(EpilogueSpec epilogue) => Apply(epilogue, "global::KernelDsl.Cpu.CpuActivation." + epilogue.Activation);

    /// <summary>x, plus the bias when there is one, through the activation named <paramref name="activation"/> unless it is None.</summary>
    private static string Apply(EpilogueSpec epilogue, string activation)
    {
        string inner = epilogue.Bias ? "x + bias" : "x";
        return epilogue.Activation == Activation.None ? inner : activation + "(" + inner + ")";
    }
}
