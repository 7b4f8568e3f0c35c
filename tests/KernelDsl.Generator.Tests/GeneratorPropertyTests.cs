using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using CsCheck;
using KernelDsl.Generator.Tests.Infrastructure;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Xunit;
using Xunit.Abstractions;

namespace KernelDsl.Generator.Tests;

/// <summary>
/// Random kernel descriptions (<see cref="KernelDescriptions"/>), seeded: the generator never throws, the code it
/// prints compiles (no diagnostic that the user's own code does not already have), every kernel class it prints
/// nothing for carries a KDxxxx diagnostic in the user's source, the same input gives the same output, and one
/// run takes milliseconds (a bound of a second catches the runaway searches). CI runs <see cref="DefaultCases"/>
/// cases; <c>KERNELDSL_PROPERTY_CASES</c> runs more and <c>KERNELDSL_PROPERTY_SEED</c> replays a printed seed.
/// </summary>
public sealed class GeneratorPropertyTests(ITestOutputHelper output)
{
    private const int DefaultCases = 1500;

    private static readonly TimeSpan RunBudget = TimeSpan.FromSeconds(1);

    [Fact]
    public void Random_descriptions_generate_compiling_code_or_a_located_diagnostic()
    {
        int cases = int.TryParse(Environment.GetEnvironmentVariable("KERNELDSL_PROPERTY_CASES"), out int n) ? n : DefaultCases;
        string seed = Environment.GetEnvironmentVariable("KERNELDSL_PROPERTY_SEED") is { Length: > 0 } given
            ? given
            : new PCG(1, 20261203).ToString();
        output.WriteLine($"{cases} cases from seed {seed}");
        KernelDescriptions.Programs.Sample(Check, seed: seed, iter: cases, threads: Environment.ProcessorCount,
            writeLine: output.WriteLine);
    }

    private static void Check(KernelDescriptions.Program program)
    {
        var stopwatch = Stopwatch.StartNew();
        var run = GeneratorRun.Run(program.Sources);
        var elapsed = stopwatch.Elapsed;

        var crash = run.Result.Results.Select(r => r.Exception).FirstOrDefault(e => e is not null);
        Assert.True(crash is null, $"the generator threw: {crash}");
        Assert.True(elapsed < RunBudget, $"one generator run took {elapsed.TotalMilliseconds:0} ms");

        var before = run.Input.GetDiagnostics().Where(d => d.Severity >= DiagnosticSeverity.Warning).Select(Key).ToHashSet();
        var added = run.OutputProblems.Where(d => !before.Contains(Key(d))).ToList();
        Assert.True(added.Count == 0, "the generated code does not compile:\n" + string.Join("\n", added.Take(5)));

        // A kernel type (all its partial declarations) gets members, or a KD diagnostic in one of its declarations.
        var kernels = KernelDeclarations(run.Input)
            .GroupBy(d => run.Input.GetSemanticModel(d.SyntaxTree).GetDeclaredSymbol(d), SymbolEqualityComparer.Default);
        foreach (var kernel in kernels)
        {
            bool generated = kernel.Key is INamedTypeSymbol type && FindInOutput(run.Output, type) is { } output
                && output.GetMembers().Any(m => m.Locations.Any(l => IsGenerated(run, l)));
            var declarations = kernel.Key?.DeclaringSyntaxReferences.Select(r => r.GetSyntax()).ToArray() ?? kernel.ToArray<SyntaxNode>();
            bool located = run.GeneratorDiagnostics.Any(d => d.Id.StartsWith("KD", StringComparison.Ordinal)
                && declarations.Any(declaration => d.Location.GetLineSpan().Path == declaration.SyntaxTree.FilePath
                                                   && declaration.FullSpan.Contains(d.Location.SourceSpan)));
            Assert.True(generated || located, $"'{kernel.First().Identifier.Text}' got neither code nor a KD diagnostic in its declarations");
        }

        var again = GeneratorRun.Run(program.Sources);
        Assert.Equal(Outputs(run), Outputs(again));
    }

    private static (string, string, string) Key(Diagnostic d) => (d.Id, d.Location.SourceTree?.FilePath ?? "", d.Location.SourceSpan.ToString());

    private static bool IsGenerated(GeneratorRun run, Location location) =>
        location.SourceTree is { } tree && !run.Input.SyntaxTrees.Any(t => t.FilePath == tree.FilePath);

    /// <summary>Every type declaration that carries [Gemm] or [RingAttention].</summary>
    private static IEnumerable<TypeDeclarationSyntax> KernelDeclarations(Compilation compilation) =>
        compilation.SyntaxTrees.SelectMany(t => t.GetRoot().DescendantNodes().OfType<TypeDeclarationSyntax>())
            .Where(d => d.AttributeLists.SelectMany(l => l.Attributes).Any(a => a.Name.ToString() is "Gemm" or "RingAttention"));

    /// <summary>The same type in the compilation with the generated code.</summary>
    private static INamedTypeSymbol? FindInOutput(Compilation output, INamedTypeSymbol type) =>
        SymbolFinder(output, type.DeclaringSyntaxReferences[0]);

    private static INamedTypeSymbol? SymbolFinder(Compilation output, SyntaxReference reference)
    {
        var tree = output.SyntaxTrees.First(t => t.FilePath == reference.SyntaxTree.FilePath);
        var node = tree.GetRoot().DescendantNodes().OfType<TypeDeclarationSyntax>().First(d => d.Span == reference.Span);
        return output.GetSemanticModel(tree).GetDeclaredSymbol(node) as INamedTypeSymbol;
    }

    private static string Outputs(GeneratorRun run) =>
        string.Join("\n", run.GeneratedSources.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => p.Key + "\n" + p.Value)) + "\n" +
        string.Join("\n", run.GeneratorDiagnostics.Select(d => d.ToString()));
}
