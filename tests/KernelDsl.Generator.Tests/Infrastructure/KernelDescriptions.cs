using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using CsCheck;

namespace KernelDsl.Generator.Tests.Infrastructure;

/// <summary>
/// Random kernel descriptions for the property tests: attribute values from the valid ranges and from the hostile
/// edges (zero, negative, huge, undefined enum values, non-finite floats), declared in every syntax a user could write
/// (class, record, struct; static or not; file-local; generic; nested; names that clash with generated members or
/// differ only in case), one to three kernels per compilation so that names can collide.
/// </summary>
internal static class KernelDescriptions
{
    /// <summary>One compilation: a file per kernel declaration.</summary>
    public sealed record Program(IReadOnlyList<Declaration> Declarations)
    {
        public (string Path, string Text)[] Sources =>
            Declarations.Select((d, i) => ($"Kernel{i}.cs", d.Text)).ToArray();

        public override string ToString() => string.Join("\n// ----\n", Declarations.Select(d => d.Text));
    }

    /// <summary>One file declaring one type, maybe inside a containing type, with kernel and tuning attributes.</summary>
    public sealed record Declaration(string Text, string TypeName);

    private static readonly Gen<int> Size = Gen.Frequency(
        (6, Gen.OneOf(16, 32, 64, 128, 256)),
        (3, Gen.OneOf(8, 24, 48, 80, 96, 112, 160, 512)),
        (2, Gen.OneOf(-1, 0, 1, 3, 4, 7, 100, 1024, 4096, 65536)),
        (1, Gen.OneOf(int.MaxValue, int.MinValue, 2147483644, 1 << 30)));

    private static readonly Gen<int> WarpCount = Gen.Frequency(
        (6, Gen.OneOf(1, 2, 4, 8)),
        (2, Gen.OneOf(3, 16, 32)),
        (1, Gen.OneOf(-1, 0, 33, 64, int.MaxValue)));

    private static readonly Gen<string> Element = Gen.Frequency(
        (8, Gen.OneOf("Element.F32", "Element.F16", "Element.BF16")),
        (1, Gen.OneOf("(Element)7", "(Element)(-1)")));

    private static readonly Gen<string> Bool = Gen.OneOf("true", "false");

    private static readonly Gen<string> Activation = Gen.Frequency(
        (8, Gen.OneOf("Activation.None", "Activation.Relu", "Activation.Gelu", "Activation.Silu")),
        (1, Gen.OneOf("(Activation)9")));

    private static readonly Gen<string> Layout = Gen.Frequency(
        (8, Gen.OneOf("RingLayout.Contiguous", "RingLayout.Zigzag", "RingLayout.Striped")),
        (1, Gen.OneOf("(RingLayout)5")));

    private static readonly Gen<string> Scale = Gen.OneOf(
        "0f", "0.125f", "0.088388f", "1f", "-1f", "3e38f", "1e-40f", "float.NaN", "float.PositiveInfinity", "float.MaxValue");

    /// <summary>Zero to <paramref name="max"/> of the named arguments, in a fixed order.</summary>
    private static Gen<string> Named(int max, params (string Name, Gen<string> Value)[] properties) =>
        Gen.Int[0, (1 << properties.Length) - 1].SelectMany(mask =>
        {
            var chosen = properties.Where((_, i) => (mask >> i & 1) == 1).Take(max).ToArray();
            return chosen.Length == 0
                ? Gen.Const("")
                : chosen.Aggregate(Gen.Const(""), (text, p) => text.SelectMany(t => p.Value.Select(v => (t.Length > 0 ? t + ", " : "") + $"{p.Name} = {v}")));
        });

    private static string Int(int value) => value.ToString(CultureInfo.InvariantCulture);

    private static Gen<string> SizeText => Size.Select(Int);

    private static readonly Gen<string> Gemm =
        Gen.Select(Element, Named(4, ("TransposeA", Bool), ("TransposeB", Bool), ("Output", Element), ("Accumulate", Element)))
            .Select((element, named) => $"[Gemm({element}{(named.Length > 0 ? ", " + named : "")})]");

    private static readonly Gen<string> RingAttention =
        Named(5, ("HeadDim", SizeText), ("Element", Element), ("Causal", Bool), ("Layout", Layout), ("Scale", Scale))
            .Select(named => $"[RingAttention({named})]");

    private static readonly Gen<string> Tile =
        Named(5, ("M", SizeText), ("N", SizeText), ("K", SizeText), ("Q", SizeText), ("KV", SizeText))
            .Select(named => $"[Tile({named})]");

    private static readonly Gen<string> Warps = Gen.OneOf(
        WarpCount.Select(m => $"[Warps({Int(m)})]"),
        Gen.Select(WarpCount, WarpCount).Select((m, n) => $"[Warps({Int(m)}, {Int(n)})]"));

    private static readonly Gen<string> Pipeline = Gen.OneOf(1, 2, 3, 4, 8, 0, -1, 9, int.MaxValue).Select(s => $"[Pipeline(Stages = {Int(s)})]");

    private static readonly Gen<string> Epilogue = Named(2, ("Bias", Bool), ("Activation", Activation)).Select(named => $"[Epilogue({named})]");

    private static readonly Gen<string> Overlap = Gen.OneOf(1, 2, 0, 3).Select(b => $"[Overlap(Buffers = {Int(b)})]");

    /// <summary>The kernel attribute (or both, or none) and any tuning attributes, each present or not.</summary>
    private static readonly Gen<string> Attributes = Gen.Select(
            Gen.Frequency((6, Gemm), (6, RingAttention), (1, Gen.Select(Gemm, RingAttention).Select((g, r) => g + " " + r)), (1, Gen.Const(""))),
            Optional(Tile), Optional(Warps), Optional(Pipeline), Optional(Epilogue), Optional(Overlap))
        .Select((kernel, tile, warps, pipeline, epilogue, overlap) =>
            string.Join(" ", new[] { kernel, tile, warps, pipeline, epilogue, overlap }.Where(s => s.Length > 0)));

    private static Gen<string> Optional(Gen<string> attribute) => Gen.Frequency((1, attribute), (1, Gen.Const("")));

    private static readonly Gen<string> Name = Gen.Frequency(
        (8, Gen.OneOf("Proj", "Attn", "K")),
        (1, Gen.OneOf("proj", "k", "@class", "Run", "Info", "CudaSource", "Launch", "Compute", "Forward", "Attention",
            "EntryPoint", "Élan", "Kernel_1", "Global", "var", "dynamic", "nameof")));
    // Not "System": a kernel of that name in the global namespace gets KD0016, but such a type beside another kernel
    // still hides every global::System name from it, as it does in any generator's output. The generated code declares
    // every local with its type, so a type named var, dynamic or nameof changes nothing.

    private static readonly Gen<string> TypeParameters = Gen.Frequency((6, Gen.Const("")), (1, Gen.Const("<T>")));

    private static readonly Gen<string> Kind = Gen.Frequency(
        (12, Gen.Const("static partial class")),
        (1, Gen.OneOf("partial class", "static class", "partial record", "partial struct", "partial record struct",
            "file static partial class", "internal static partial class", "public static partial class")));

    private static readonly Gen<string> Body = Gen.OneOf(";", " { }");

    private static readonly Gen<(string Open, string Close)> Container = Gen.Frequency(
        (8, Gen.Const(("", ""))),
        (1, Gen.OneOf(
            ("public static partial class Outer { ", " }"),
            ("public partial class Outer<T> { ", " }"),
            ("public class Plain { ", " }"),
            ("public partial struct Host { ", " }"))));

    private static readonly Gen<string> Namespace = Gen.OneOf("namespace App;\n", "namespace App.Inner;\n", "");

    private static readonly Gen<Declaration> DeclarationGen =
        Gen.Select(Namespace, Container, Attributes, Kind, Name, TypeParameters, Body)
            .Select((ns, container, attributes, kind, name, typeParameters, body) => new Declaration(
                "using KernelDsl;\nusing KernelDsl.Ring;\n" + ns +
                $"{container.Open}{attributes} {kind} {name}{typeParameters}{body}{container.Close}\n",
                name));

    /// <summary>One to three declarations; the second may repeat the first's name (collisions, partial parts).</summary>
    public static readonly Gen<Program> Programs = Gen.Int[1, 3].SelectMany(count => DeclarationGen.Array[count])
        .Select(declarations => new Program(declarations));
}
