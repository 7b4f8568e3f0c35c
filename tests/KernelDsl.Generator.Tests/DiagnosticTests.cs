using System.Linq;
using KernelDsl.Generator.Diagnostics;
using KernelDsl.Generator.Tests.Infrastructure;
using Microsoft.CodeAnalysis;
using Xunit;

namespace KernelDsl.Generator.Tests;

/// <summary>
/// Every invalid description is a KDxxxx diagnostic at the attribute (or class name) that causes it,
/// with a message that says how to fix it, and no code is generated for that kernel.
/// </summary>
public sealed class DiagnosticTests
{
    /// <summary>Runs the generator on <paramref name="source"/> and returns the single diagnostic with the ID, checking what it points at.</summary>
    private static Diagnostic Single(string source, string id, string pointsAt, bool inNamespace = true)
    {
        string text = "using KernelDsl; using KernelDsl.Ring;\n" + (inNamespace ? "namespace App;" : "") + "\n" + source;
        var run = GeneratorRun.Run(("Kernel.cs", text));
        var diagnostic = Assert.Single(run.GeneratorDiagnostics);
        Assert.Equal(id, diagnostic.Id);
        Assert.Equal(DiagnosticSeverity.Error, diagnostic.Severity);
        var where = diagnostic.Location.GetLineSpan();
        Assert.Equal("Kernel.cs", where.Path);
        Assert.Equal(2, where.StartLinePosition.Line);
        Assert.Equal(pointsAt, text.Substring(diagnostic.Location.SourceSpan.Start, diagnostic.Location.SourceSpan.Length));
        Assert.Empty(run.GeneratedSources);
        return diagnostic;
    }

    [Fact]
    public void KD0001_class_that_is_not_static()
        => Assert.Contains("'static partial'", Single("[Gemm(Element.F32)] public partial class Proj;", "KD0001", "Proj").GetMessage());

    [Fact]
    public void KD0001_class_that_is_not_partial()
        => Single("[Gemm(Element.F32)] public static class Proj { }", "KD0001", "Proj");

    [Fact]
    public void KD0001_containing_type_that_is_not_partial()
        => Single("public class Outer { [Gemm(Element.F32)] public static partial class Proj; }", "KD0001", "Proj");

    [Fact]
    public void KD0002_tile_not_divisible_by_warps()
    {
        var diagnostic = Single("[Gemm(Element.F32)] [Tile(M = 100, N = 128, K = 16), Warps(3, 4)] public static partial class Proj;",
            "KD0002", "Tile(M = 100, N = 128, K = 16)");
        Assert.Contains("such as 102", diagnostic.GetMessage());
    }

    [Fact]
    public void KD0003_warp_tile_smaller_than_a_warp()
        => Assert.Contains("not a multiple of 32", Single(
            "[Gemm(Element.F32)] [Tile(M = 8, N = 8, K = 16), Warps(2, 2)] public static partial class Proj;",
            "KD0003", "Tile(M = 8, N = 8, K = 16)").GetMessage());

    [Fact]
    public void KD0003_too_many_accumulators_per_thread()
        => Assert.Contains("2048 accumulators", Single(
            "[Gemm(Element.F32)] [Tile(M = 256, N = 256, K = 8), Warps(1, 1)] public static partial class Proj;",
            "KD0003", "Tile(M = 256, N = 256, K = 8)").GetMessage());

    [Fact]
    public void KD0004_shared_memory_over_the_limit()
        => Assert.Contains("166912", Single(
            "[Gemm(Element.F32)] [Tile(M = 128, N = 128, K = 128), Warps(2, 4), Pipeline(Stages = 2)] public static partial class Proj;",
            "KD0004", "Pipeline(Stages = 2)").GetMessage());

    [Theory]
    [InlineData(0)]
    [InlineData(9)]
    public void KD0005_stages_out_of_range(int stages)
        => Single($"[Gemm(Element.F32)] [Pipeline(Stages = {stages})] public static partial class Proj;", "KD0005", $"Pipeline(Stages = {stages})");

    [Fact]
    public void KD0006_fp32_operands_with_16_bit_output()
        => Assert.Contains("F16/BF16 operands", Single("[Gemm(Element.F32, Output = Element.F16)] public static partial class Proj;",
            "KD0006", "Gemm(Element.F32, Output = Element.F16)").GetMessage());

    [Fact]
    public void KD0006_non_fp32_accumulator()
        => Single("[Gemm(Element.F32, Accumulate = Element.BF16)] public static partial class Proj;", "KD0006", "Gemm(Element.F32, Accumulate = Element.BF16)");

    [Fact]
    public void KD0007_tuning_attribute_without_a_kernel()
        => Assert.Contains("add [Gemm(...)]", Single("[Tile(M = 64)] public static partial class Proj;", "KD0007", "Tile(M = 64)").GetMessage());

    [Fact]
    public void KD0008_non_positive_tile()
        => Single("[Gemm(Element.F32)] [Tile(K = 0)] public static partial class Proj;", "KD0008", "Tile(K = 0)");

    [Fact]
    public void KD0009_more_than_1024_threads()
        => Single("[Gemm(Element.F32)] [Tile(M = 256, N = 256), Warps(8, 8)] public static partial class Proj;", "KD0009", "Warps(8, 8)");

    [Fact]
    public void KD0010_undefined_enum_value()
        => Single("[Gemm((Element)7)] public static partial class Proj;", "KD0010", "Gemm((Element)7)");

    [Fact]
    public void KD0011_tensor_core_warp_tile_not_a_multiple_of_16()
        => Assert.Contains("multiple of 16×16", Single(
            "[Gemm(Element.F16)] [Tile(M = 64, N = 96, K = 32), Warps(2, 4)] public static partial class Proj;",
            "KD0011", "Tile(M = 64, N = 96, K = 32)").GetMessage());

    [Fact]
    public void KD0012_tensor_core_k_tile_not_a_multiple_of_16()
        => Single("[Gemm(Element.BF16)] [Tile(M = 64, N = 64, K = 24), Warps(2, 2)] public static partial class Proj;",
            "KD0012", "Tile(M = 64, N = 64, K = 24)");

    [Fact]
    public void KD0003_tensor_core_warp_tile_over_the_register_budget()
        => Assert.Contains("256 accumulators", Single(
            "[Gemm(Element.F16)] [Tile(M = 128, N = 128, K = 32), Warps(1, 2)] public static partial class Proj;",
            "KD0003", "Tile(M = 128, N = 128, K = 32)").GetMessage());

    [Fact]
    public void KD0004_tensor_core_shared_memory_over_the_limit()
        => Single("[Gemm(Element.F16)] [Tile(M = 128, N = 128, K = 128), Warps(2, 2), Pipeline(Stages = 3)] public static partial class Proj;",
            "KD0004", "Pipeline(Stages = 3)");

    [Fact]
    public void KD0007_gemm_and_ring_attention_on_one_class()
        => Assert.Contains("both [Gemm] and [RingAttention]", Single(
            "[Gemm(Element.F32), RingAttention] public static partial class Proj;", "KD0007", "Gemm(Element.F32)").GetMessage());

    [Fact]
    public void KD0007_attention_tile_properties_on_a_gemm()
        => Assert.Contains("Tile.Q", Single("[Gemm(Element.F32)] [Tile(Q = 64)] public static partial class Proj;", "KD0007", "Tile(Q = 64)").GetMessage());

    [Fact]
    public void KD0007_gemm_tuning_on_attention()
        => Assert.Contains("[Epilogue] does not apply", Single(
            "[RingAttention(HeadDim = 64)] [Epilogue(Bias = true)] public static partial class Attn;", "KD0007", "Attn").GetMessage());

    [Fact]
    public void KD0007_two_dimensional_warps_on_attention()
        => Single("[RingAttention(HeadDim = 64)] [Warps(2, 2)] public static partial class Attn;", "KD0007", "Warps(2, 2)");

    [Theory]
    [InlineData(72)]
    [InlineData(272)]
    [InlineData(0)]
    public void KD0013_head_dim_out_of_range(int headDim)
        => Single($"[RingAttention(HeadDim = {headDim})] public static partial class Attn;", "KD0013", $"RingAttention(HeadDim = {headDim})");

    [Fact]
    public void KD0014_overlap_buffers_out_of_range()
        => Single("[RingAttention(HeadDim = 64)] [Overlap(Buffers = 3)] public static partial class Attn;", "KD0014", "Overlap(Buffers = 3)");

    [Fact]
    public void KD0015_attention_rows_per_warp_not_a_multiple_of_16()
        => Assert.Contains("owns 8 query rows", Single(
            "[RingAttention(HeadDim = 64, Element = Element.F16)] [Tile(Q = 32, KV = 64), Warps(4)] public static partial class Attn;",
            "KD0015", "Tile(Q = 32, KV = 64)").GetMessage());

    [Fact]
    public void KD0015_attention_kv_tile_not_a_multiple_of_16()
        => Single("[RingAttention(HeadDim = 64)] [Tile(Q = 64, KV = 40), Warps(4)] public static partial class Attn;", "KD0015", "Tile(Q = 64, KV = 40)");

    [Fact]
    public void KD0003_attention_over_the_register_budget()
        => Assert.Contains("live values of O, S and their operands", Single(
            "[RingAttention(HeadDim = 256, Element = Element.BF16)] [Tile(Q = 64, KV = 64), Warps(2)] public static partial class Attn;",
            "KD0003", "Tile(Q = 64, KV = 64)").GetMessage());

    [Fact]
    public void KD0004_attention_shared_memory_over_the_limit()
        => Assert.Contains("Tile(Q, KV)", Single(
            "[RingAttention(HeadDim = 256, Element = Element.F32)] [Tile(Q = 128, KV = 64), Warps(8)] public static partial class Attn;",
            "KD0004", "Tile(Q = 128, KV = 64)").GetMessage());

    [Fact]
    public void KD0010_undefined_ring_layout()
        => Single("[RingAttention(HeadDim = 64, Layout = (RingLayout)5)] public static partial class Attn;", "KD0010", "RingAttention(HeadDim = 64, Layout = (RingLayout)5)");

    [Theory]
    [InlineData("public partial record Proj;", "record")]
    [InlineData("public partial struct Proj;", "struct")]
    [InlineData("public partial record struct Proj;", "record struct")]
    public void KD0001_record_or_struct(string declaration, string keyword)
        => Assert.Contains($"it is a {keyword};", Single("[Gemm(Element.F32)] " + declaration, "KD0001", "Proj").GetMessage());

    [Fact]
    public void KD0001_file_local_class()
        => Assert.Contains("file-local", Single("[Gemm(Element.F32)] file static partial class Proj;", "KD0001", "Proj").GetMessage());

    [Theory]
    [InlineData("[Gemm(Element.F32)]", "Run")]
    [InlineData("[Gemm(Element.F32)]", "Info")]
    [InlineData("[Gemm(Element.F32)]", "CudaSource")]
    [InlineData("[RingAttention(HeadDim = 64)]", "Forward")]
    [InlineData("[RingAttention(HeadDim = 64)]", "Attention")]
    [InlineData("[Gemm(Element.F32)]", "System", false)]
    public void KD0016_class_named_like_generated_code(string kernel, string name, bool inNamespace = true)
        => Assert.Contains("rename the class", Single($"{kernel} public static partial class {name};", "KD0016", name, inNamespace).GetMessage());

    [Theory]
    [InlineData("[Gemm(Element.F32)] [Tile(M = 4096)]", "Tile(M = 4096)")]
    [InlineData("[RingAttention(Element = Element.BF16)] [Tile(KV = int.MaxValue)]", "Tile(KV = int.MaxValue)")]
    [InlineData("[RingAttention(HeadDim = 64)] [Tile(Q = 64, KV = 2147483644)]", "Tile(Q = 64, KV = 2147483644)")]
    [InlineData("[RingAttention(HeadDim = 64, Scale = 3e38f)]", "RingAttention(HeadDim = 64, Scale = 3e38f)")]
    public void KD0017_value_out_of_range(string attributes, string pointsAt)
        => Single($"{attributes} public static partial class Kern;", "KD0017", pointsAt);

    [Theory]
    [InlineData("[Gemm(Element.F32)] [Tile(M = 256, N = 128, K = 16), Warps(4, 8)]", "Tile(M = 256, N = 128, K = 16)")]
    [InlineData("[Gemm(Element.BF16)] [Tile(M = 128, N = 256), Warps(8, 4)]", "Tile(M = 128, N = 256)")]
    [InlineData("[Gemm(Element.BF16)] [Tile(M = 128, N = 256), Warps(8, 2)]", "Tile(M = 128, N = 256)")]
    [InlineData("[Gemm(Element.F32)] [Tile(M = 96, N = 112, K = 32)]", "Tile(M = 96, N = 112, K = 32)")]
    [InlineData("[RingAttention(HeadDim = 128, Element = Element.BF16)] [Tile(Q = 512, KV = 32), Warps(32)]", "Tile(Q = 512, KV = 32)")]
    public void KD0018_registers_over_the_budget(string attributes, string pointsAt)
        => Assert.Contains("registers", Single($"{attributes} public static partial class Kern;", "KD0018", pointsAt).GetMessage());

    [Theory]
    [InlineData("[Gemm(Element.F16)] [Tile(N = 4)]", "KD0011")]
    [InlineData("[Gemm(Element.F16)] [Tile(K = 4)]", "KD0012")]
    [InlineData("[Gemm(Element.F16, TransposeA = true)] [Tile(M = 4)]", "KD0011")]
    public void Sixteen_bit_tile_side_under_8_is_a_diagnostic_not_a_crash(string attributes, string id)
    {
        var run = GeneratorRun.Run(("Kernel.cs", $"using KernelDsl;\nnamespace App;\n{attributes} public static partial class Kern;"));
        Assert.All(run.Result.Results, r => Assert.Null(r.Exception));
        Assert.Contains(run.GeneratorDiagnostics, d => d.Id == id);
    }

    [Fact]
    public void KD0002_suggests_a_tile_that_tensor_cores_accept()
    {
        var diagnostic = Single("[Gemm(Element.F16)] [Tile(M = 100, N = 128, K = 32), Warps(3, 2)] public static partial class Proj;",
            "KD0002", "Tile(M = 100, N = 128, K = 32)");
        Assert.Contains("such as 144", diagnostic.GetMessage());
    }

    [Fact]
    public void KD0009_warp_count_that_overflows()
        => Single("[Gemm(Element.F32)] [Warps(4, int.MaxValue)] public static partial class Proj;", "KD0009", "Warps(4, int.MaxValue)");

    [Fact]
    public void KD0007_kernel_attribute_on_two_parts_of_a_partial_class()
    {
        var run = GeneratorRun.Run(
            ("A.cs", "using KernelDsl;\nnamespace App;\n[Gemm(Element.F32)] public static partial class Proj;"),
            ("B.cs", "using KernelDsl;\nnamespace App;\n[Gemm(Element.F32)] public static partial class Proj;"));
        Assert.All(run.Result.Results, r => Assert.Null(r.Exception));
        var diagnostic = Assert.Single(run.GeneratorDiagnostics);
        Assert.Equal("KD0007", diagnostic.Id);
        Assert.Equal("B.cs", diagnostic.Location.GetLineSpan().Path);
        Assert.Single(run.GeneratedSources);
    }

    [Theory]
    [InlineData("public static partial class Proj;", "public static partial class proj;")]
    [InlineData("public static partial class K;", "public static partial class K<T>;")]
    [InlineData("public static partial class Outer { [Gemm(Element.F32)] public static partial class K; }", "public static partial class Outer<T> { [Gemm(Element.F32)] public static partial class K; }")]
    [InlineData("public static partial class @class;", "public static partial class Other;")]
    public void Kernels_whose_names_collide_in_a_file_name_each_get_a_file_that_compiles(string first, string second)
    {
        string Kernel(string declaration) => declaration.Contains("[Gemm", System.StringComparison.Ordinal) ? declaration : "[Gemm(Element.F32)] " + declaration;
        var run = GeneratorRun.Run(
            ("A.cs", "using KernelDsl;\nnamespace App;\n" + Kernel(first)),
            ("B.cs", "using KernelDsl;\nnamespace App;\n" + Kernel(second)));
        Assert.All(run.Result.Results, r => Assert.Null(r.Exception));
        Assert.Empty(run.GeneratorDiagnostics);
        Assert.Equal(2, run.GeneratedSources.Count);
        Assert.Empty(run.OutputProblems);
    }

    [Fact]
    public void Every_descriptor_has_a_test_and_ids_are_sequential()
    {
        var ids = DiagnosticDescriptors.All.Select(d => d.Id).ToArray();
        Assert.Equal(Enumerable.Range(1, ids.Length).Select(i => $"KD{i:0000}"), ids);
        var tested = typeof(DiagnosticTests).GetMethods().Select(m => m.Name.Split('_')[0]).ToHashSet();
        Assert.All(ids, id => Assert.Contains(id, tested));
    }

    [Fact]
    public void A_valid_kernel_has_no_diagnostics_and_compiles_without_warnings()
    {
        var run = GeneratorRun.Run(("Kernel.cs", """
            using KernelDsl;
            namespace App.Nested;
            public static partial class Outer
            {
                [Gemm(Element.F32, TransposeA = true)]
                [Tile(M = 64, N = 32, K = 8), Warps(2, 1), Pipeline(Stages = 1)]
                [Epilogue(Activation = Activation.Gelu)]
                internal static partial class Inner;
            }
            """));
        Assert.Empty(run.GeneratorDiagnostics);
        Assert.Empty(run.OutputProblems);
        Assert.Equal("App.Nested.Outer.Inner.g.cs", Assert.Single(run.GeneratedSources).Key);
    }

    [Fact]
    public void Broken_user_code_never_crashes_the_generator()
    {
        var run = GeneratorRun.Run(("Kernel.cs", """
            using KernelDsl;
            [Gemm(Element.F32, TransposeB = NotAConstant)]
            [Tile(M = "wide")]
            public static partial class Proj
            """));
        Assert.Null(run.Result.Results.Single().Exception);
        Assert.DoesNotContain(run.GeneratorDiagnostics, d => d.Id == "CS8785");
    }
}
