using System;
using System.Linq;
using System.Text.RegularExpressions;
using KernelDsl.Generator.Emitting.Cuda;
using KernelDsl.Generator.Tests.Infrastructure;
using Xunit;

namespace KernelDsl.Generator.Tests;

/// <summary>
/// Inline PTX lives only in the one guarded prelude block of each kernel, so the emulator can replace it
/// wholesale; and the prelude table names each helper once.
/// </summary>
public sealed class PtxPreludeTests
{
    private static readonly Regex Prelude = new(
        $@"#ifndef {PtxPrelude.Guard}\n.*?#endif  // {PtxPrelude.Guard} \(end of the PTX prelude\)\n", RegexOptions.Singleline);

    [Fact]
    public void Every_kernel_has_one_prelude_and_no_asm_outside_it()
    {
        var run = GeneratorRun.Run(RepositoryFiles.KernelSources().ToArray());
        Assert.Empty(run.GeneratorDiagnostics);
        Assert.NotEmpty(run.GeneratedSources);
        foreach (var (hint, text) in run.GeneratedSources)
        {
            string cuda = GeneratorRun.CudaSourceOf(text);
            Assert.True(Prelude.Matches(cuda).Count == 1, $"{hint}: expected exactly one PTX prelude block");
            string body = Prelude.Replace(cuda, "");
            Assert.False(Regex.IsMatch(body, @"\basm\b"), $"{hint}: inline PTX outside the prelude");
            Assert.DoesNotContain("__cvta_generic_to_shared", body, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Helper_names_are_unique_and_each_text_defines_its_name()
    {
        var helpers = PtxPrelude.Helpers.Concat(PtxPrelude.PortableHelpers).ToArray();
        Assert.Equal(helpers.Length, helpers.Select(h => h.Name).Distinct().Count());
        foreach (var helper in helpers)
        {
            Assert.Matches($@"\b{helper.Name}(\(|\s*\{{)", helper.Text);
        }
    }
}
