using System.Linq;
using KernelDsl.Generator.Tests.Infrastructure;
using Xunit;

namespace KernelDsl.Generator.Tests;

/// <summary>
/// <c>KernelDsl.Generated.AssemblyKernels</c> names every valid kernel that code at the assembly's top level can
/// name, with its element types, and nothing else; it compiles beside kernels it cannot list.
/// </summary>
public sealed class AssemblyKernelsTests
{
    [Fact]
    public void Lists_the_reachable_valid_kernels_in_name_order()
    {
        var run = GeneratorRun.Run(("Kernels.cs", """
            using KernelDsl;
            namespace App;
            [Gemm(Element.BF16, Output = Element.BF16)] public static partial class Zeta;
            [RingAttention(HeadDim = 64, Element = Element.F16)] internal static partial class Attn;
            public static partial class Outer
            {
                [Gemm(Element.F32)] internal static partial class Inner;
                [Gemm(Element.F32)] private static partial class Hidden;
                [Gemm(Element.F32)] protected internal static partial class Shared;
            }
            public partial class Generic<T>
            {
                [Gemm(Element.F32)] public static partial class InGeneric;
            }
            [Gemm(Element.F32)] [Tile(M = 4096)] public static partial class Invalid;
            """));
        string catalog = run.AssemblyKernels;
        string[] visits = catalog.Split('\n').Select(line => line.Trim()).Where(line => line.StartsWith("visitor.", System.StringComparison.Ordinal)).ToArray();

        Assert.Equal(
        [
            "visitor.Attention<global::App.Attn.Kernel, global::System.Half>();",
            "visitor.Gemm<global::App.Outer.Inner.Kernel, float, float>();",
            "visitor.Gemm<global::App.Outer.Shared.Kernel, float, float>();",
            "visitor.Gemm<global::App.Zeta.Kernel, global::KernelDsl.BFloat16, global::KernelDsl.BFloat16>();",
        ], visits);
        Assert.Contains("public const int Count = 4;", catalog);
        Assert.Single(run.GeneratorDiagnostics, d => d.Id == "KD0017");
        var userDiagnostics = run.Input.GetDiagnostics().Select(d => d.Id).ToHashSet();
        Assert.Empty(run.OutputProblems.Where(d => !userDiagnostics.Contains(d.Id)));
    }

    [Fact]
    public void An_assembly_without_kernels_gets_an_empty_list()
    {
        var run = GeneratorRun.Run(("Empty.cs", "namespace App; public static class NotAKernel;"));
        Assert.Contains("public const int Count = 0;", run.AssemblyKernels);
        Assert.Empty(run.OutputProblems);
    }
}
