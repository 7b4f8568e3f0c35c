using System;
using System.Collections.Immutable;
using System.IO;
using System.Linq;
using KernelDsl.Generator;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace KernelDsl.Generator.Tests.Infrastructure;

/// <summary>
/// Runs <see cref="KernelDslGenerator"/> over C# sources the way the compiler does, and exposes what
/// it produced: generated files, the generator's diagnostics, and the diagnostics of the compilation
/// that includes the generated code (nullable on, so generated code must be warning-free).
/// </summary>
internal sealed class GeneratorRun
{
    private static readonly CSharpParseOptions ParseOptions = new(LanguageVersion.Latest);

    private static readonly Lazy<ImmutableArray<MetadataReference>> References = new(() =>
    {
        string[] platform = ((string)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")!).Split(Path.PathSeparator);
        return platform.Select(path => (MetadataReference)MetadataReference.CreateFromFile(path))
            .Append(MetadataReference.CreateFromFile(typeof(GemmAttribute).Assembly.Location))
            .ToImmutableArray();
    });

    private GeneratorRun(GeneratorDriver driver, CSharpCompilation input, Compilation output, ImmutableArray<Diagnostic> generatorDiagnostics)
    {
        Driver = driver;
        Input = input;
        Output = output;
        GeneratorDiagnostics = generatorDiagnostics;
    }

    public GeneratorDriver Driver { get; }

    public CSharpCompilation Input { get; }

    public Compilation Output { get; }

    public ImmutableArray<Diagnostic> GeneratorDiagnostics { get; }

    public GeneratorDriverRunResult Result => Driver.GetRunResult();

    /// <summary>The kernels' generated files by hint name, e.g. <c>Samples.Proj.g.cs</c> (without <see cref="AssemblyKernels"/>).</summary>
    public ImmutableDictionary<string, string> GeneratedSources => AllSources.Remove(Emitting.Launch.AssemblyKernelsEmitter.HintName);

    /// <summary>The generated <c>KernelDsl.Generated.AssemblyKernels</c>, which every run writes, kernels or none.</summary>
    public string AssemblyKernels => AllSources[Emitting.Launch.AssemblyKernelsEmitter.HintName];

    private ImmutableDictionary<string, string> AllSources =>
        Result.Results.SelectMany(r => r.GeneratedSources).ToImmutableDictionary(s => s.HintName, s => s.SourceText.ToString());

    public static CSharpCompilation Compile(params (string Path, string Text)[] sources) => CSharpCompilation.Create(
        "KernelDslGeneratorTests",
        sources.Select(s => CSharpSyntaxTree.ParseText(s.Text, ParseOptions, s.Path)),
        References.Value,
        new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, nullableContextOptions: NullableContextOptions.Enable));

    public static GeneratorRun Run(params (string Path, string Text)[] sources) => Run(Compile(sources));

    public static GeneratorRun Run(CSharpCompilation compilation)
    {
        GeneratorDriver driver = CSharpGeneratorDriver.Create(
            [new KernelDslGenerator().AsSourceGenerator()],
            parseOptions: ParseOptions,
            driverOptions: new GeneratorDriverOptions(IncrementalGeneratorOutputKind.None, trackIncrementalGeneratorSteps: true));
        return Continue(driver, compilation);
    }

    /// <summary>Runs an existing driver again on an edited compilation (incrementality tests).</summary>
    public static GeneratorRun Continue(GeneratorDriver driver, CSharpCompilation compilation)
    {
        driver = driver.RunGeneratorsAndUpdateCompilation(compilation, out var output, out var diagnostics);
        return new GeneratorRun(driver, compilation, output, diagnostics);
    }

    /// <summary>Errors and warnings of the compilation with the generated code in it.</summary>
    public ImmutableArray<Diagnostic> OutputProblems =>
        Output.GetDiagnostics().Where(d => d.Severity >= DiagnosticSeverity.Warning).ToImmutableArray();

    /// <summary>The text of the generated <c>CudaSource</c> constant: exactly what a user's program holds.</summary>
    public static string CudaSourceOf(string generatedFile, string constant = "CudaSource")
    {
        var field = CSharpSyntaxTree.ParseText(generatedFile, ParseOptions).GetRoot()
            .DescendantNodes().OfType<VariableDeclaratorSyntax>()
            .Single(v => v.Identifier.Text == constant);
        return ((LiteralExpressionSyntax)field.Initializer!.Value).Token.ValueText;
    }
}
