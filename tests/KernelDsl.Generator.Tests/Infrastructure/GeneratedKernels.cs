using System;
using System.Collections.Generic;
using System.Linq;
using Xunit;

namespace KernelDsl.Generator.Tests.Infrastructure;

/// <summary>The kernels the compile and SASS tests cover: the repository's own and a test's configuration matrix.</summary>
internal static class GeneratedKernels
{
    /// <summary>
    /// Runs the generator over the repository's kernel sources (<see cref="RepositoryFiles.KernelSources"/>) and one
    /// class per <paramref name="matrix"/> entry in namespace <paramref name="matrixNamespace"/>, and keeps the kernels of
    /// <paramref name="kind"/>, by qualified name. Kernels whose CUDA differs only in their names (a ring layout, which
    /// the CUDA does not see; a sample repeated by a test) compile to the same code, so only the first is kept: the
    /// repository's before the matrix's, then in name order.
    /// </summary>
    /// <param name="kind">GEMM or attention.</param>
    /// <param name="matrixNamespace">The namespace of the matrix classes, e.g. <c>Matrix</c>.</param>
    /// <param name="matrix">Class name and attribute lines of each configuration beyond the repository's.</param>
    public static IReadOnlyDictionary<string, GeneratedKernel> Generate(
        GeneratedKernel.Family kind, string matrixNamespace, IEnumerable<(string Name, string Attributes)> matrix)
    {
        var sources = RepositoryFiles.KernelSources().Concat(matrix.Select(entry => (
            Path: $"{matrixNamespace}/{entry.Name}.cs",
            Text: $"using KernelDsl;\nusing KernelDsl.Ring;\nnamespace {matrixNamespace};\n{entry.Attributes}\npublic static partial class {entry.Name};\n")));
        var run = GeneratorRun.Run(sources.ToArray());
        Assert.Empty(run.GeneratorDiagnostics);

        var kernels = run.GeneratedSources
            .Select(pair => pair.Key.Substring(0, pair.Key.Length - ".g.cs".Length) is var name
                ? GeneratedKernel.Parse(name, pair.Value, fromRepository: !name.StartsWith(matrixNamespace + ".", StringComparison.Ordinal))
                : null)
            .OfType<GeneratedKernel>()
            .Where(kernel => kernel.Kind == kind)
            .OrderBy(kernel => kernel.FromRepository ? 0 : 1)
            .ThenBy(kernel => kernel.Name, StringComparer.Ordinal);
        var unique = new Dictionary<string, GeneratedKernel>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (GeneratedKernel kernel in kernels)
        {
            if (seen.Add(kernel.CudaWithoutNames))
            {
                unique.Add(kernel.Name, kernel);
            }
        }
        return unique;
    }

    /// <summary>Every (kernel, architecture, NVRTC) case of <paramref name="kernels"/>: one per <see cref="CudaToolchain.Targets"/>.</summary>
    public static TheoryData<string, int, string> Cases(IEnumerable<string> kernels)
    {
        var data = new TheoryData<string, int, string>();
        foreach (var (compiler, arch) in CudaToolchain.Targets)
        {
            foreach (string kernel in kernels)
            {
                data.Add(kernel, arch, compiler);
            }
        }
        return data;
    }
}
