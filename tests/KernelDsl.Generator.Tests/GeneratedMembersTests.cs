using System;
using System.Linq;
using KernelDsl.Generator.Emitting;
using KernelDsl.Generator.Tests.Infrastructure;
using Microsoft.CodeAnalysis;
using Xunit;

namespace KernelDsl.Generator.Tests;

/// <summary>
/// <see cref="GeneratedMembers"/>, which validation uses to reject a kernel class named like a member it would get,
/// lists exactly the members the emitters print, for every epilogue and element type, with and without an sm_90a kernel or a CUDA backward pass.
/// </summary>
public sealed class GeneratedMembersTests
{
    [Theory]
    [InlineData("[Gemm(Element.F32)] [Epilogue(Bias = true, Activation = Activation.Gelu)]", "Gemm")]
    [InlineData("[Gemm(Element.BF16, Output = Element.BF16)]", "Gemm")]
    [InlineData("[Gemm(Element.BF16, TransposeB = true, Output = Element.BF16)]", "GemmSm90a")]
    [InlineData("[RingAttention(HeadDim = 64, Element = Element.F16, Causal = true)] [Tile(Q = 64, KV = 64), Warps(4)]", "AttentionCudaBackward")]
    [InlineData("[RingAttention(HeadDim = 256, Element = Element.BF16)] [Tile(Q = 64, KV = 64), Warps(4)]", "Attention")]
    [InlineData("[RingAttention(HeadDim = 64)] [Tile(Q = 64, KV = 32), Warps(4)]", "AttentionCudaBackward")]
    public void The_list_is_what_the_emitters_print(string attributes, string kind)
    {
        var run = GeneratorRun.Run(("Kernel.cs", $"using KernelDsl;\nusing KernelDsl.Ring;\nnamespace App;\n{attributes}\npublic static partial class Kern;\n"));
        Assert.Empty(run.GeneratorDiagnostics);
        var type = run.Output.GetTypeByMetadataName("App.Kern")!;
        var printed = type.GetMembers()
            .Where(m => !m.IsImplicitlyDeclared && m is not IMethodSymbol { AssociatedSymbol: not null } && m.Locations.Any(l => l.SourceTree is { } tree && tree.FilePath != "Kernel.cs"))
            .Select(m => m.Name)
            .Distinct()
            .Order(StringComparer.Ordinal);

        var listed = (kind switch
        {
            "Gemm" => GeneratedMembers.Gemm,
            "GemmSm90a" => [.. GeneratedMembers.Gemm, .. GeneratedMembers.GemmSm90a],
            "AttentionCudaBackward" => GeneratedMembers.AttentionReserved,
            _ => GeneratedMembers.Attention,
        }).Order(StringComparer.Ordinal);
        Assert.Equal(listed, printed);
    }

    /// <summary>
    /// The generated code declares every local with its type, so a kernel (or any type beside it) named like a contextual
    /// keyword binds nothing it should not: the output compiles.
    /// </summary>
    [Theory]
    [InlineData("[Gemm(Element.F16)]", "var")]
    [InlineData("[RingAttention(HeadDim = 64)]", "var")]
    [InlineData("[Gemm(Element.F32)]", "dynamic")]
    [InlineData("[RingAttention(HeadDim = 64)]", "nameof")]
    public void A_kernel_named_like_a_contextual_keyword_compiles(string attributes, string name)
    {
        var run = GeneratorRun.Run(("Kernel.cs", $"using KernelDsl;\nusing KernelDsl.Ring;\nnamespace App;\n{attributes}\npublic static partial class {name};\n"));
        Assert.Empty(run.GeneratorDiagnostics);
        Assert.NotEmpty(run.GeneratedSources);
        var userWarnings = run.Input.GetDiagnostics().Select(d => d.Id).ToHashSet();  // CS8981: a lower-case type name
        Assert.Empty(run.OutputProblems.Where(d => !userWarnings.Contains(d.Id)));
    }
}
