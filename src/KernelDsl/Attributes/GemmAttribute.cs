using System;

namespace KernelDsl;

/// <summary>
/// Declares a GEMM kernel <c>C ← act(α·op(A)·op(B) + β·C + bias)</c> on a <c>static partial class</c>.
/// All matrices are row-major; <c>op(A)</c> is M×K and <c>op(B)</c> is K×N.
/// The generator adds <c>Run</c> (CPU fallback), <c>CudaSource</c>, <c>EntryPoint</c> and <c>Info</c>
/// to the class. Combine with <see cref="TileAttribute"/>, <see cref="WarpsAttribute"/>,
/// <see cref="PipelineAttribute"/> and <see cref="EpilogueAttribute"/>.
/// </summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false, Inherited = false)]
public sealed class GemmAttribute : Attribute
{
    /// <summary>Declares a GEMM whose A and B operands have the element type <paramref name="element"/>.</summary>
    /// <param name="element">Element type of A and B.</param>
    public GemmAttribute(Element element) => Element = element;

    /// <summary>Element type of the A and B operands.</summary>
    public Element Element { get; }

    /// <summary>Element type of the accumulator. Only <see cref="Element.F32"/> is supported.</summary>
    public Element Accumulate { get; set; } = Element.F32;

    /// <summary>Element type of C (and of bias). Defaults to <see cref="Element.F32"/>.</summary>
    public Element Output { get; set; } = Element.F32;

    /// <summary>A is stored K×M (row-major), so <c>op(A) = Aᵀ</c>.</summary>
    public bool TransposeA { get; set; }

    /// <summary>B is stored N×K (row-major, as a <c>Linear</c> layer's weight), so <c>op(B) = Bᵀ</c>.</summary>
    public bool TransposeB { get; set; }
}
