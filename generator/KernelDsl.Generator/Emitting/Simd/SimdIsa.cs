using System.Collections.Generic;
using KernelDsl.Generator.Planning;

namespace KernelDsl.Generator.Emitting.Simd;

/// <summary>
/// How one instruction-set width is spelled in generated C#: the vector type, and the load, store,
/// broadcast, fused multiply-add and math expressions on it. <see cref="SimdGemmEmitter"/> prints
/// every kernel struct through one of these, so the four widths share one printing routine.
/// The scalar width is a "vector" of one <c>float</c>.
/// </summary>
internal sealed class SimdIsa
{
    private const string Intrinsics = "global::System.Runtime.Intrinsics.";
    private const string Unsafe = "global::System.Runtime.CompilerServices.Unsafe";
    private const string MathF = "global::System.MathF";

    private SimdIsa(CpuIsa isa, int lanes, int registers, string registerKind)
    {
        Isa = isa;
        Lanes = lanes;
        Registers = registers;
        RegisterKind = registerKind;
    }

    public static SimdIsa For(CpuIsa isa) => isa switch
    {
        CpuIsa.Vector512 => new SimdIsa(isa, 16, 32, "zmm registers (AVX-512)"),
        CpuIsa.Vector256 => new SimdIsa(isa, 8, 16, "ymm registers (AVX2)"),
        CpuIsa.Vector128 => new SimdIsa(isa, 4, 16, "xmm registers (SSE; NEON has 32)"),
        _ => new SimdIsa(CpuIsa.Scalar, 1, 16, "xmm registers (x64 without AVX-512; 32 with it)"),
    };

    public CpuIsa Isa { get; }

    /// <summary>Floats per vector.</summary>
    public int Lanes { get; }

    /// <summary>Vector (or floating-point) registers the k loop can keep values in.</summary>
    public int Registers { get; }

    /// <summary>What those registers are, for comments.</summary>
    public string RegisterKind { get; }

    public bool IsScalar => Lanes == 1;

    /// <summary>
    /// Whether kernels of this width print AVX-512's <c>vrndscaleps</c> and <c>vscalefps</c> (<c>Avx512F.RoundScale</c>,
    /// <c>Avx512F.Scale</c>), behind <c>Avx512F.IsSupported</c>: where Vector512 is accelerated, AVX-512F is there.
    /// </summary>
    public bool HasScale => Isa == CpuIsa.Vector512;

    /// <summary>The type of one vector of floats.</summary>
    public string VectorType => IsScalar ? "float" : Intrinsics + Isa + "<float>";

    /// <summary>The static API class of this width, e.g. <c>global::System.Runtime.Intrinsics.Vector512</c>.</summary>
    private string Api => Intrinsics + Isa;

    public string Zero => IsScalar ? "0f" : VectorType + ".Zero";

    /// <summary>A vector with every lane <paramref name="scalar"/> (a float expression).</summary>
    public string Broadcast(string scalar) => IsScalar ? scalar : $"{Api}.Create({scalar})";

    /// <summary>The vector at <paramref name="reference"/> + <paramref name="offset"/> elements.</summary>
    public string Load(string reference, int offset) => IsScalar ? Element(reference, offset) : $"{Api}.LoadUnsafe(ref {reference}, {offset})";

    /// <summary>A statement storing <paramref name="value"/> at <paramref name="reference"/> + <paramref name="offset"/> elements.</summary>
    public string Store(string value, string reference, int offset)
        => IsScalar ? $"{Element(reference, offset)} = {value};" : $"{Api}.StoreUnsafe({value}, ref {reference}, {offset});";

    /// <summary><c>a·b + addend</c>, rounded once.</summary>
    public string MultiplyAdd(string a, string b, string addend)
        => $"{(IsScalar ? MathF : Api)}.FusedMultiplyAdd({a}, {b}, {addend})";

    public string Max(string x, string y) => $"{(IsScalar ? MathF : Api)}.Max({x}, {y})";

    /// <summary>
    /// The larger of <paramref name="x"/> and <paramref name="y"/> per lane by the platform's own rule for NaN and −0
    /// (x86 <c>maxps</c>: the second operand's lane where either is NaN). One instruction, where <see cref="Max"/>
    /// costs three with AVX-512 (<c>vrangeps</c> and two <c>vfixupimmps</c>, for IEEE's NaN and −0): for maxima whose
    /// NaN lanes reach the result another way.
    /// </summary>
    public string MaxNative(string x, string y) => $"{(IsScalar ? "float" : Api)}.MaxNative({x}, {y})";

    /// <summary>e^x per lane (<c>VectorNNN.Exp</c>, .NET 9 and later).</summary>
    public string Exp(string x) => $"{(IsScalar ? MathF : Api)}.Exp({x})";

    /// <summary>The float at <paramref name="reference"/> + <paramref name="offset"/> elements, readable and writable.</summary>
    public static string Element(string reference, string offset) => $"{Unsafe}.Add(ref {reference}, {offset})";

    public static string Element(string reference, int offset) => Element(reference, Invariant.Int(offset));

    /// <summary>
    /// Statements copying <paramref name="count"/> contiguous stored values from <paramref name="from"/>
    /// to floats at <paramref name="to"/>: the widest vectors this width may use (16, 8, 4 floats), then
    /// single values; <paramref name="elements"/> spells reading them as floats.
    /// </summary>
    public IEnumerable<string> CopyRun(CpuElements elements, string from, string to, int count)
    {
        int offset = 0;
        for (int width = Lanes; width >= 4; width /= 2)
        {
            string api = Intrinsics + "Vector" + Invariant.Int(width * 32);
            for (; count - offset >= width; offset += width)
            {
                yield return $"{api}.StoreUnsafe({elements.LoadFloats(width, from, offset)}, ref {to}, {offset});";
            }
        }
        for (; offset < count; offset++)
        {
            yield return $"{Element(to, offset)} = {elements.AsFloat(Element(from, offset))};";
        }
    }
}
