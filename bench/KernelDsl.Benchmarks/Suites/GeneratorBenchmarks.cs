using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using BenchmarkDotNet.Attributes;
using KernelDsl.Generator;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace KernelDsl.Benchmarks;

/// <summary>
/// What the generator adds to a build: a compilation with 1, 10 or 50 annotated kernels (a mix of fp32 and fp16
/// GEMMs with epilogues and causal bf16 ring attention, one file each, plus an unrelated file) run through
/// <see cref="CSharpGeneratorDriver"/> as the compiler runs it. <see cref="Generate"/> is a first build (every
/// kernel parsed, planned and emitted); <see cref="UnrelatedEdit"/> re-runs a driver that has seen the compilation
/// after an edit to the unrelated file, which must re-run no emitter (checked in the setup).
/// Issue #6's target: ≤ 5 ms per kernel.
/// </summary>
[MemoryDiagnoser]
[Suite("Generator", "CSharpGeneratorDriver over a compilation of N annotated kernels (fp32/fp16/bf16 GEMMs with epilogues, bf16 ring attention, one file each) and one unrelated file; a first build and a rebuild after an edit to the unrelated file.")]
public class GeneratorBenchmarks
{
    private const string Helpers = "namespace App; public static class Helpers { public static int Twice(int x) => 2 * x; }";

    private static readonly string[] Templates =
    [
        "[Gemm(Element.F32, TransposeB = true)] [Tile(M = 64, N = 64, K = 16), Warps(2, 2)] [Epilogue(Bias = true, Activation = Activation.Relu)]",
        "[Gemm(Element.F16, Output = Element.F16)] [Tile(M = 128, N = 128, K = 32), Warps(2, 2), Pipeline(Stages = 3)] [Epilogue(Activation = Activation.Gelu)]",
        "[Gemm(Element.F32)]",
        "[RingAttention(HeadDim = 128, Element = Element.BF16, Causal = true, Layout = RingLayout.Zigzag)] [Tile(Q = 128, KV = 64), Warps(8)]",
        "[Gemm(Element.BF16, Output = Element.F32, TransposeA = true)] [Tile(M = 128, N = 256, K = 64), Warps(2, 4), Pipeline(Stages = 3)]",
    ];

    private CSharpCompilation _compilation = null!;
    private CSharpCompilation _edited = null!;
    private GeneratorDriver _warm = null!;

    /// <summary>The cases of the mode <see cref="BenchMode.Quick"/> selects.</summary>
    public static IEnumerable<KernelCount> Counts => BenchMode.Quick ? [new(10)] : [new(1), new(10), new(50)];

    /// <summary>The case being measured.</summary>
    [ParamsSource(nameof(Counts))]
    public KernelCount Count { get; set; } = new(1);

    /// <summary>Builds the compilations and the warm driver; checks the kernels generate without errors and the edit re-runs nothing.</summary>
    [GlobalSetup]
    public void Setup()
    {
        var parse = new CSharpParseOptions(LanguageVersion.Latest);
        var trees = Enumerable.Range(0, Count.Kernels)
            .Select(i => CSharpSyntaxTree.ParseText(
                $"using KernelDsl;\nusing KernelDsl.Ring;\nnamespace App;\n{Templates[i % Templates.Length]}\npublic static partial class Kernel{i};\n",
                parse, $"Kernel{i}.cs"))
            .Append(CSharpSyntaxTree.ParseText(Helpers, parse, "Helpers.cs"));
        string[] platform = ((string)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")!).Split(Path.PathSeparator);
        var references = platform.Select(path => MetadataReference.CreateFromFile(path))
            .Append(MetadataReference.CreateFromFile(typeof(GemmAttribute).Assembly.Location));
        _compilation = CSharpCompilation.Create("GeneratorCost", trees, references,
            new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, nullableContextOptions: NullableContextOptions.Enable));
        var helpers = _compilation.SyntaxTrees.Last();
        _edited = _compilation.ReplaceSyntaxTree(helpers, CSharpSyntaxTree.ParseText(Helpers.Replace("2 * x", "x + x"), parse, "Helpers.cs"));

        var tracked = Driver(track: true).RunGenerators(_compilation);
        var first = tracked.GetRunResult();
        var errors = first.Diagnostics.Where(d => d.Severity == DiagnosticSeverity.Error).ToArray();
        int files = first.Results.Single().GeneratedSources.Length;
        if (errors.Length > 0 || files < Count.Kernels)
        {
            throw new InvalidOperationException($"The generator reported {errors.Length} errors and {files} files for {Count.Kernels} kernels: {string.Join("; ", errors.Take(3))}");
        }
        var rerun = tracked.RunGenerators(_edited).GetRunResult().Results.Single();
        int emitted = rerun.TrackedOutputSteps.SelectMany(s => s.Value).SelectMany(s => s.Outputs)
            .Count(output => output.Reason != IncrementalStepRunReason.Cached);
        if (emitted > 0)
        {
            throw new InvalidOperationException($"An unrelated edit re-ran {emitted} outputs.");
        }
        _warm = Driver(track: false).RunGenerators(_compilation);
    }

    /// <summary>A first build: a fresh driver over the whole compilation.</summary>
    [Benchmark, BenchmarkCategory(Role.Ours)]
    public GeneratorDriver Generate() => Driver(track: false).RunGenerators(_compilation);

    /// <summary>A rebuild after an edit that touches no kernel.</summary>
    [Benchmark, BenchmarkCategory(Role.Ours)]
    public GeneratorDriver UnrelatedEdit() => _warm.RunGenerators(_edited);

    private static GeneratorDriver Driver(bool track) => CSharpGeneratorDriver.Create(
        [new KernelDslGenerator().AsSourceGenerator()],
        parseOptions: new CSharpParseOptions(LanguageVersion.Latest),
        driverOptions: new GeneratorDriverOptions(IncrementalGeneratorOutputKind.None, trackIncrementalGeneratorSteps: track));
}
