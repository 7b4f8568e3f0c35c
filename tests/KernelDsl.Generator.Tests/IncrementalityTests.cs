using System.Linq;
using KernelDsl.Generator.Tests.Infrastructure;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Xunit;

namespace KernelDsl.Generator.Tests;

/// <summary>An edit that does not touch a kernel must not re-run validation, planning or emission.</summary>
public sealed class IncrementalityTests
{
    private const string Kernel = """
        using KernelDsl;
        namespace App;
        [Gemm(Element.F32, TransposeB = true)]
        [Tile(M = 64, N = 64, K = 16), Warps(2, 2)]
        [Epilogue(Bias = true, Activation = Activation.Relu)]
        public static partial class Proj;
        """;

    private const string Other = """
        namespace App;
        public static class Helpers { public static int Twice(int x) => 2 * x; }
        """;

    [Fact]
    public void An_unrelated_edit_leaves_every_step_after_parsing_cached()
    {
        var compilation = GeneratorRun.Compile(("Proj.cs", Kernel), ("Helpers.cs", Other));
        var first = GeneratorRun.Run(compilation);
        var helpers = compilation.SyntaxTrees.Single(t => t.FilePath == "Helpers.cs");
        var edited = compilation.ReplaceSyntaxTree(helpers,
            CSharpSyntaxTree.ParseText(Other.Replace("2 * x", "x + x"), (CSharpParseOptions)helpers.Options, "Helpers.cs"));

        var second = GeneratorRun.Continue(first.Driver, edited);

        var steps = second.Result.Results.Single().TrackedSteps;
        foreach (string step in new[] { KernelDslGenerator.Steps.Parse, KernelDslGenerator.Steps.Validate, KernelDslGenerator.Steps.Plan })
        {
            var reasons = steps[step].SelectMany(s => s.Outputs).Select(o => o.Reason).ToArray();
            Assert.NotEmpty(reasons);
            Assert.All(reasons, reason => Assert.True(
                reason is IncrementalStepRunReason.Cached or IncrementalStepRunReason.Unchanged,
                $"step {step} ran with reason {reason} after an unrelated edit"));
        }
        var outputs = second.Result.Results.Single().TrackedOutputSteps.SelectMany(s => s.Value).SelectMany(s => s.Outputs);
        Assert.All(outputs, output => Assert.Equal(IncrementalStepRunReason.Cached, output.Reason));
    }

    [Fact]
    public void Editing_the_kernel_re_plans_it()
    {
        var compilation = GeneratorRun.Compile(("Proj.cs", Kernel));
        var first = GeneratorRun.Run(compilation);
        var tree = compilation.SyntaxTrees.Single();
        var edited = compilation.ReplaceSyntaxTree(tree,
            CSharpSyntaxTree.ParseText(Kernel.Replace("K = 16", "K = 32"), (CSharpParseOptions)tree.Options, "Proj.cs"));

        var second = GeneratorRun.Continue(first.Driver, edited);

        var plan = second.Result.Results.Single().TrackedSteps[KernelDslGenerator.Steps.Plan].SelectMany(s => s.Outputs).Single();
        Assert.Equal(IncrementalStepRunReason.Modified, plan.Reason);
        Assert.Contains("BK = 32", GeneratorRun.CudaSourceOf(second.GeneratedSources.Values.Single()));
    }
}
