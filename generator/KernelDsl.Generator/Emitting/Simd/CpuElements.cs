using KernelDsl.Generator.Emitting.Launch;
using KernelDsl.Generator.Model;
using KernelDsl.Generator.Parsing;

namespace KernelDsl.Generator.Emitting.Simd;

/// <summary>
/// The element types of one GEMM as its CPU entry points spell them. The runtime always computes in fp32: packing
/// widens 16-bit A and B, and the driver converts a 16-bit C and bias.
/// </summary>
/// <param name="Input">Element type of A and B.</param>
/// <param name="Output">Element type of C and the bias.</param>
internal sealed record CpuElements(Element Input, Element Output)
{
    public static CpuElements Of(GemmOperands operands) => new(operands.Element, operands.Output);

    /// <summary>The .NET type of A and B.</summary>
    public string InputType => GemmSurface.ClrType(Input);

    /// <summary>The .NET type of C and the bias.</summary>
    public string OutputType => GemmSurface.ClrType(Output);

    /// <summary>Packing converts A and B to float.</summary>
    public bool WidensInput => Input != Element.F32;

    /// <summary>The runtime converts C and the bias (the microkernel works on an fp32 workspace).</summary>
    public bool ConvertsOutput => Output != Element.F32;

    /// <summary>The element type for comments, e.g. <c>fp16 (System.Half)</c>.</summary>
    public static string Describe(Element element) => element switch
    {
        Element.F16 => "fp16 (System.Half)",
        Element.BF16 => "bf16 (KernelDsl.BFloat16)",
        _ => "fp32 (float)",
    };
}
