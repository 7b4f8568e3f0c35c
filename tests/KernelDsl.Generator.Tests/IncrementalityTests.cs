using System.Linq;
using KernelDsl.Generator.Tests.Infrastructure;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Xunit;

namespace KernelDsl.Generator.Tests;

/// <summary>
/// For each kind of kernel: an edit that does not change a kernel's description — in another file, or a comment in
/// the kernel's own file — re-runs no validation, planning or emission; an edit of the description re-plans it.
/// </summary>
public sealed class IncrementalityTests
{
    private const string Gemm = """
        using KernelDsl;
        namespace App;
        [Gemm(Element.F32, TransposeB = true)]
        [Tile(M = 64, N = 64, K = 16), Warps(2, 2)]
        [Epilogue(Bias = true, Activation = Activation.Relu)]
        public static partial class Proj;
        """;

    private const string Attention = """
        using KernelDsl;
        using KernelDsl.Ring;
        namespace App;
        [RingAttention(HeadDim = 64, Element = Element.F16, Causal = true, Layout = RingLayout.Zigzag)]
        [Tile(Q = 64, KV = 64), Warps(4)]
        public static partial class Attn;
        """;

    private const string Other = """
        namespace App;
        public static class Helpers { public static int Twice(int x) => 2 * x; }
        """;

    public static TheoryData<string> Kinds() => ["Gemm", "Attention"];

    private static string SourceOf(string kind) => kind == "Gemm" ? Gemm : Attention;

    private static string[] StepsOf(string kind) => kind == "Gemm"
        ? [KernelDslGenerator.Steps.GemmParse, KernelDslGenerator.Steps.GemmValidate, KernelDslGenerator.Steps.GemmPlan]
        : [KernelDslGenerator.Steps.AttentionParse, KernelDslGenerator.Steps.AttentionValidate, KernelDslGenerator.Steps.AttentionPlan];

    [Theory]
    [MemberData(nameof(Kinds))]
    public void An_edit_in_another_file_leaves_every_step_after_parsing_cached(string kind)
    {
        var compilation = GeneratorRun.Compile(("Kernel.cs", SourceOf(kind)), ("Helpers.cs", Other));
        var second = Edit(compilation, "Helpers.cs", text => text.Replace("2 * x", "x + x"));
        AssertNothingRan(second, kind);
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public void A_comment_in_the_kernels_own_file_leaves_every_step_after_parsing_cached(string kind)
    {
        var compilation = GeneratorRun.Compile(("Kernel.cs", SourceOf(kind)));
        var second = Edit(compilation, "Kernel.cs", text => "// A comment that changes no description.\n" + text);
        // The spec holds the attributes' locations, which the comment moves, so validation runs again; the plan it
        // gives is the same, and so nothing is emitted again.
        AssertNothingRan(second, kind, firstCachedStep: 2);
    }

    [Theory]
    [InlineData("Gemm", "K = 16", "K = 32", "BK = 32;")]
    [InlineData("Attention", "KV = 64", "KV = 32", "BKV = 32")]
    public void Editing_the_kernel_re_plans_it(string kind, string before, string after, string expected)
    {
        var compilation = GeneratorRun.Compile(("Kernel.cs", SourceOf(kind)));
        var second = Edit(compilation, "Kernel.cs", text => text.Replace(before, after));

        var plan = second.Result.Results.Single().TrackedSteps[StepsOf(kind)[2]].SelectMany(s => s.Outputs).Single();
        Assert.Equal(IncrementalStepRunReason.Modified, plan.Reason);
        Assert.Contains(expected, GeneratorRun.CudaSourceOf(second.GeneratedSources.Values.Single()));
    }

    private static GeneratorRun Edit(CSharpCompilation compilation, string file, System.Func<string, string> edit)
    {
        var first = GeneratorRun.Run(compilation);
        var tree = compilation.SyntaxTrees.Single(t => t.FilePath == file);
        var edited = compilation.ReplaceSyntaxTree(tree,
            CSharpSyntaxTree.ParseText(edit(tree.ToString()), (CSharpParseOptions)tree.Options, file));
        return GeneratorRun.Continue(first.Driver, edited);
    }

    private static void AssertNothingRan(GeneratorRun second, string kind, int firstCachedStep = 1)
    {
        var steps = second.Result.Results.Single().TrackedSteps;
        foreach (string step in StepsOf(kind).Skip(firstCachedStep))
        {
            var reasons = steps[step].SelectMany(s => s.Outputs).Select(o => o.Reason).ToArray();
            Assert.NotEmpty(reasons);
            Assert.All(reasons, reason => Assert.True(
                reason is IncrementalStepRunReason.Cached or IncrementalStepRunReason.Unchanged,
                $"step {step} ran with reason {reason} after an edit that changes no description"));
        }
        var outputs = second.Result.Results.Single().TrackedOutputSteps.SelectMany(s => s.Value).SelectMany(s => s.Outputs);
        Assert.All(outputs, output => Assert.True(
            output.Reason is IncrementalStepRunReason.Cached or IncrementalStepRunReason.Unchanged, $"an output ran with reason {output.Reason}"));
    }
}
