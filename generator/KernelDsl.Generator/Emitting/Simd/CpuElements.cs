using KernelDsl.Generator.Emitting.Launch;
using KernelDsl.Generator.Model;
using KernelDsl.Generator.Parsing;

namespace KernelDsl.Generator.Emitting.Simd;

/// <summary>
/// The element types of one GEMM as its CPU fallback spells them: everything that differs between
/// an fp32 kernel and a 16-bit one, as data, so one printing routine serves all. The microkernel always
/// computes in fp32: packing reads A and B as their stored type and writes float slivers (through
/// <c>KernelDsl.Cpu.CpuConvert</c>: <c>ToSingle</c> per element, a widening <c>LoadVector…</c> per vector), and the runtime driver
/// converts a 16-bit C and bias. fp32 keeps its own spellings (<c>ICpuGemmKernel</c>, <c>CpuGemm.Run&lt;TKernel&gt;</c>,
/// plain loads), so fp32 kernels print exactly as before 16-bit elements existed.
/// </summary>
/// <param name="Input">Element type of A and B.</param>
/// <param name="Output">Element type of C and the bias.</param>
internal sealed record CpuElements(Element Input, Element Output)
{
    private const string Intrinsics = "global::System.Runtime.Intrinsics.";
    private const string Convert = "global::KernelDsl.Cpu.CpuConvert";

    public static CpuElements Of(GemmOperands operands) => new(operands.Element, operands.Output);

    /// <summary>The .NET type of A and B.</summary>
    public string InputType => GemmSurface.ClrType(Input);

    /// <summary>The .NET type of C and the bias.</summary>
    public string OutputType => GemmSurface.ClrType(Output);

    /// <summary>Packing converts A and B to float.</summary>
    public bool WidensInput => Input != Element.F32;

    /// <summary>The runtime converts C and the bias (the microkernel works on an fp32 workspace).</summary>
    public bool ConvertsOutput => Output != Element.F32;

    /// <summary>The interface the kernel structs implement.</summary>
    public string KernelInterface => "global::KernelDsl.Cpu.ICpuGemmKernel" + (WidensInput ? "<" + InputType + ">" : "");

    /// <summary>Type arguments of <c>CpuGemm.Run</c> for the kernel struct <paramref name="kernel"/>.</summary>
    public string DriverTypeArguments(string kernel)
        => WidensInput || ConvertsOutput ? $"{kernel}, {InputType}, {OutputType}" : kernel;

    /// <summary>A stored element of A or B (an expression of <see cref="InputType"/>) as a float.</summary>
    public string AsFloat(string element) => WidensInput ? $"{Convert}.ToSingle({element})" : element;

    /// <summary>The element type for comments, e.g. <c>fp16 (System.Half)</c>.</summary>
    public static string Describe(Element element) => element switch
    {
        Element.F16 => "fp16 (System.Half)",
        Element.BF16 => "bf16 (KernelDsl.BFloat16)",
        _ => "fp32 (float)",
    };

    /// <summary>A vector of <paramref name="floats"/> floats from the stored A or B values at <paramref name="reference"/> + <paramref name="offset"/>.</summary>
    public string LoadFloats(int floats, string reference, int offset)
    {
        string width = "Vector" + Invariant.Int(floats * 32);
        return WidensInput
            ? $"{Convert}.Load{width}(ref {reference}, {Invariant.Int(offset)})"
            : $"{Intrinsics}{width}.LoadUnsafe(ref {reference}, {Invariant.Int(offset)})";
    }
}
