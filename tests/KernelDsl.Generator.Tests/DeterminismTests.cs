using System.Linq;
using KernelDsl.Generator.Tests.Infrastructure;
using Xunit;

namespace KernelDsl.Generator.Tests;

public sealed class DeterminismTests
{
    [Fact]
    public void Two_independent_runs_produce_byte_identical_files()
    {
        var sources = RepositoryFiles.KernelSources().ToArray();
        var first = GeneratorRun.Run(sources).GeneratedSources;
        var second = GeneratorRun.Run(sources).GeneratedSources;

        Assert.True(first.Count >= sources.Length, $"expected a file per kernel, got {first.Count}");
        Assert.Equal(first.Keys.OrderBy(k => k, System.StringComparer.Ordinal), second.Keys.OrderBy(k => k, System.StringComparer.Ordinal));
        foreach (var (hint, text) in first)
        {
            Assert.Equal(text, second[hint]);
            Assert.DoesNotContain("\r", text);
        }
    }
}
