using System.Linq;
using KernelDsl.Generator.Tests.Infrastructure;
using Xunit;

namespace KernelDsl.Generator.Tests;

/// <summary>The generated C# and CUDA of every sample kernel, reviewed like code (Snapshots/*.verified.*).</summary>
public sealed class SnapshotTests
{
    public static TheoryData<string> SampleFiles => new(RepositoryFiles.KernelSources()
        .Where(file => RepositoryFiles.Relative(file.Path).StartsWith("samples/", System.StringComparison.Ordinal))
        .Select(file => RepositoryFiles.Relative(file.Path)));

    [Theory]
    [MemberData(nameof(SampleFiles))]
    public void Generated_code_matches_the_reviewed_snapshots(string file)
    {
        var source = RepositoryFiles.KernelSources().Single(f => RepositoryFiles.Relative(f.Path) == file);
        var run = GeneratorRun.Run(source);

        Assert.Empty(run.GeneratorDiagnostics);
        Assert.Empty(run.OutputProblems);
        Assert.NotEmpty(run.GeneratedSources);
        foreach (var (hint, text) in run.GeneratedSources.OrderBy(pair => pair.Key, System.StringComparer.Ordinal))
        {
            string name = hint.Substring(0, hint.Length - ".g.cs".Length);
            Snapshot.Match(text, name, "g.cs");
            Snapshot.Match(GeneratorRun.CudaSourceOf(text), name, "cu");
        }
        string project = file.Split('/')[1];  // samples/<project>/...
        Snapshot.Match(run.AssemblyKernels, project + ".AssemblyKernels", "g.cs");
    }

    /// <summary>[GeneratedCode] carries the generator assembly's version, so tools can tell which generator wrote a file.</summary>
    [Fact]
    public void GeneratedCode_names_the_generators_version()
    {
        var run = GeneratorRun.Run(("Kernel.cs", "using KernelDsl;\nnamespace App;\n[Gemm(Element.F32)]\npublic static partial class Kern;\n"));
        string version = typeof(KernelDslGenerator).Assembly.GetName().Version!.ToString(3);
        Assert.Contains($"[global::System.CodeDom.Compiler.GeneratedCode(\"KernelDsl.Generator\", \"{version}\")]", Assert.Single(run.GeneratedSources).Value);
    }
}
