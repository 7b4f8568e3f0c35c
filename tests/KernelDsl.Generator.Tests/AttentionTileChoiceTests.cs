using System.Text.RegularExpressions;
using KernelDsl.Generator.Tests.Infrastructure;
using Xunit;

namespace KernelDsl.Generator.Tests;

/// <summary>
/// A [Tile] side an attention kernel leaves unset is the planner's choice: the largest candidate that fits, so the
/// bare <c>[RingAttention]</c> plans for every element type and head dimension; a side the user wrote is kept, and
/// one that does not fit is reported, not replaced.
/// </summary>
public sealed class AttentionTileChoiceTests
{
    [Theory]
    [InlineData("F32", 128, 128, 32)]
    [InlineData("F32", 64, 128, 64)]
    [InlineData("F16", 128, 128, 64)]
    [InlineData("BF16", 256, 128, 32)]
    [InlineData("F32", 256, 64, 16)]
    public void Unset_sides_take_the_largest_tile_that_fits(string element, int headDim, int q, int kv)
    {
        var run = GeneratorRun.Run(("Attn.cs",
            $"using KernelDsl;\nnamespace App;\n[RingAttention(HeadDim = {headDim}, Element = Element.{element})] public static partial class Attn;\n"));

        Assert.Empty(run.GeneratorDiagnostics);
        Assert.Empty(run.OutputProblems);
        string cuda = GeneratorRun.CudaSourceOf(Assert.Single(run.GeneratedSources).Value);
        Assert.Equal($"BQ = {q}, BKV = {kv}", Regex.Match(cuda, @"BQ = \d+, BKV = \d+").Value);
    }

    /// <summary>
    /// [Warps] unset on tensor cores: FlashAttention-2's 32 query rows per warp where its key step still covers the
    /// whole KV tile (d = 64), 16 rows where the 32-row O would force a shorter step (d = 128); a written count is kept.
    /// </summary>
    [Theory]
    [InlineData("BF16", 64, "", 4, 64)]
    [InlineData("F16", 128, "", 8, 64)]
    [InlineData("BF16", 128, "[Warps(4)]", 4, 16)]
    public void Unset_warps_take_32_rows_where_the_key_step_covers_the_tile(string element, int headDim, string warps, int expectedWarps, int keyStep)
    {
        var run = GeneratorRun.Run(("Attn.cs",
            $"using KernelDsl;\nnamespace App;\n[RingAttention(HeadDim = {headDim}, Element = Element.{element})] [Tile(Q = 128, KV = 64)] {warps} public static partial class Attn;\n"));

        Assert.Empty(run.GeneratorDiagnostics);
        string cuda = GeneratorRun.CudaSourceOf(Assert.Single(run.GeneratedSources).Value);
        Assert.Equal($"WARPS = {expectedWarps}", Regex.Match(cuda, @"WARPS = \d+").Value);
        Assert.Equal($"KS = {keyStep}", Regex.Match(cuda, @"KS = \d+").Value);
    }

    [Fact]
    public void A_written_side_is_kept_and_the_other_is_chosen()
    {
        var run = GeneratorRun.Run(("Attn.cs",
            "using KernelDsl;\nnamespace App;\n[RingAttention(HeadDim = 128)] [Tile(Q = 64)] public static partial class Attn;\n"));

        Assert.Empty(run.GeneratorDiagnostics);
        Assert.Contains("BQ = 64, BKV = 32", GeneratorRun.CudaSourceOf(Assert.Single(run.GeneratedSources).Value));
    }

    [Fact]
    public void A_written_tile_that_does_not_fit_is_reported()
    {
        var run = GeneratorRun.Run(("Attn.cs",
            "using KernelDsl;\nnamespace App;\n[RingAttention(HeadDim = 128)] [Tile(Q = 128, KV = 64)] public static partial class Attn;\n"));

        Assert.Equal("KD0004", Assert.Single(run.GeneratorDiagnostics).Id);
        Assert.Empty(run.GeneratedSources);
    }
}
