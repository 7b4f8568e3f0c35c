using System.Linq;
using KernelDsl.Generator.Tests.Infrastructure;
using Xunit;

namespace KernelDsl.Generator.Tests;

/// <summary>The generated C# and CUDA (an attention kernel's backward pass too) of every sample kernel, reviewed like code (Snapshots/*.verified.*).</summary>
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
            if (text.Contains("public const string CudaBackwardSource", System.StringComparison.Ordinal))
            {
                Snapshot.Match(GeneratorRun.CudaSourceOf(text, "CudaBackwardSource"), name + ".Backward", "cu");
            }
        }
        string project = file.Split('/')[1];  // samples/<project>/...
        Snapshot.Match(run.AssemblyKernels, project + ".AssemblyKernels", "g.cs");
    }

    /// <summary>
    /// The tensor-core GEMMs' CUDA, reviewed like the samples': Triton's four standard fp16 configurations, the NN
    /// layout and the fused bias + GELU with 16-bit output, as the GPU runner declares them (the bf16 twins differ only
    /// in the element type); for the TN ones also the sm_90a kernel.
    /// </summary>
    [Theory]
    [InlineData("F16Tn128x256x64")]
    [InlineData("F16Tn128x128x32")]
    [InlineData("F16Tn64x128x32")]
    [InlineData("F16Tn64x32x32")]
    [InlineData("F16Nn128x128x32")]
    [InlineData("F16TnBiasGeluF16")]
    public void Tensor_core_gemm_cuda_matches_the_reviewed_snapshots(string kernel)
    {
        var source = RepositoryFiles.KernelSources().Single(f => RepositoryFiles.Relative(f.Path) == "bench/KernelDsl.GpuRunner/Kernels.cs");
        var run = GeneratorRun.Run(source);
        Assert.Empty(run.GeneratorDiagnostics);
        string name = "KernelDsl.GpuRunner." + kernel;
        string generated = run.GeneratedSources[name + ".g.cs"];
        Snapshot.Match(GeneratorRun.CudaSourceOf(generated), name, "cu");
        if (kernel.Contains("Tn", System.StringComparison.Ordinal))
        {
            Snapshot.Match(GeneratorRun.CudaSourceOf(generated, "CudaSourceSm90a"), name + ".Sm90a", "cu");
        }
    }

    /// <summary>
    /// The fp32 backward pass on CUDA cores, reviewed like the samples' 16-bit one: d = 128 (whole groups of 8 chunks)
    /// and d = 80, whose last chunk group is partial.
    /// </summary>
    [Theory]
    [InlineData("bench/KernelDsl.Benchmarks/Kernels.cs", "KernelDsl.Benchmarks.BenchAttention128")]
    [InlineData("tests/KernelDsl.Tests/Emulation/SwizzleKernels.cs", "KernelDsl.Tests.Emulation.AttentionF32D80")]
    public void Simt_attention_backward_cuda_matches_the_reviewed_snapshots(string file, string kernel)
    {
        var source = RepositoryFiles.KernelSources().Single(f => RepositoryFiles.Relative(f.Path) == file);
        var run = GeneratorRun.Run(source);
        Assert.Empty(run.GeneratorDiagnostics);
        Snapshot.Match(GeneratorRun.CudaSourceOf(run.GeneratedSources[kernel + ".g.cs"], "CudaBackwardSource"), kernel + ".Backward", "cu");
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
