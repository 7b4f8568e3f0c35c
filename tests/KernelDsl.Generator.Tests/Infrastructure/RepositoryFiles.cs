using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Runtime.CompilerServices;

namespace KernelDsl.Generator.Tests.Infrastructure;

/// <summary>Finds the repository's own kernel sources (samples and test kernels) so tests cover exactly what users see.</summary>
internal static class RepositoryFiles
{
    public static string Root { get; } = FindRoot();

    /// <summary>Every C# file that declares a kernel ([Gemm] or [RingAttention]) in the samples, the runtime tests, the ring host and the benchmarks.</summary>
    public static IReadOnlyList<(string Path, string Text)> KernelSources()
    {
        var folders = new[] { "samples", "tests/KernelDsl.Tests", "tests/KernelDsl.RingHost", "bench" }.Select(folder => Path.Combine(Root, folder));
        return folders
            .SelectMany(folder => Directory.EnumerateFiles(folder, "*.cs", SearchOption.AllDirectories))
            .Where(path => !path.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}")
                        && !path.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}"))
            .Select(path => (Path: path, Text: File.ReadAllText(path)))
            .Where(file => file.Text.Contains("[Gemm(") || file.Text.Contains("[RingAttention("))
            .OrderBy(file => file.Path, System.StringComparer.Ordinal)
            .ToList();
    }

    /// <summary>Path relative to the repository root with '/' separators (stable names for snapshots).</summary>
    public static string Relative(string path) => Path.GetRelativePath(Root, path).Replace('\\', '/');

    private static string FindRoot([CallerFilePath] string here = "")
    {
        var directory = new DirectoryInfo(Path.GetDirectoryName(here)!);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "KernelDsl.sln")))
        {
            directory = directory.Parent;
        }
        return directory?.FullName ?? throw new DirectoryNotFoundException("KernelDsl.sln not found above " + here);
    }
}
