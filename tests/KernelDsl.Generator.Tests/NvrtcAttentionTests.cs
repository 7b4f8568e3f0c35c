using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Text.RegularExpressions;
using KernelDsl.Cuda;
using KernelDsl.Generator.Tests.Infrastructure;
using Xunit;
using Xunit.Abstractions;

namespace KernelDsl.Generator.Tests;

/// <summary>
/// The ring-attention kernels — step and finalize — of a matrix of valid configurations (d ∈ {64, 128, 256} ×
/// F32/F16/BF16 × causal or not, with tiles that fit), of a few odd shapes and of the repository's own attention
/// kernels compile through NVRTC to sm_80 and sm_90 CUBIN with no spills, at most 255 registers, and shared memory
/// within the architecture's per-block limit; kernels whose CUDA differs only in names compile once. Runs on any
/// machine with libnvrtc (no GPU needed); the registers of every kernel are in the test output.
/// </summary>
public sealed class NvrtcAttentionTests(ITestOutputHelper output)
{
    private static readonly Lazy<Dictionary<string, string>> Generated = new(GenerateAll);

    /// <summary>Tiles per head dimension and element width that pass validation (registers, shared memory): FlashAttention-2-like where they fit.</summary>
    private static string TileFor(int headDim, string element) => (headDim, element == "F32") switch
    {
        (64, _) => "[Tile(Q = 128, KV = 64), Warps(4)]",
        (128, false) => "[Tile(Q = 128, KV = 64), Warps(4)]",
        (128, true) => "[Tile(Q = 64, KV = 32), Warps(4)]",
        (256, false) => "[Tile(Q = 64, KV = 64), Warps(4)]",
        _ => "[Tile(Q = 64, KV = 16), Warps(4)]",
    };

    /// <summary>
    /// Beyond the d × element × causal grid: 8 warps, small and odd d (narrow swizzles), 3 and 8 MMA row tiles per
    /// warp, SIMT lane grids with mirrored lanes, a set scale, and tiles at the register budget (160 live values).
    /// </summary>
    private static readonly string[] Extra =
    [
        "[RingAttention(HeadDim = 128, Element = Element.BF16, Causal = true, Layout = RingLayout.Zigzag)] [Tile(Q = 128, KV = 64), Warps(8)]",
        "[RingAttention(HeadDim = 32, Element = Element.BF16, Causal = true)] [Tile(Q = 64, KV = 64), Warps(4)]",
        "[RingAttention(HeadDim = 16, Element = Element.BF16, Causal = true)] [Tile(Q = 128, KV = 16), Warps(1)]",
        "[RingAttention(HeadDim = 80, Element = Element.F16, Causal = true, Scale = 0.25f)] [Tile(Q = 192, KV = 32), Warps(4)]",
        "[RingAttention(HeadDim = 16, Element = Element.F32, Causal = true)] [Tile(Q = 48, KV = 16), Warps(4)]",
        "[RingAttention(HeadDim = 48, Element = Element.F32)] [Tile(Q = 12, KV = 16), Warps(4)]",
        "[RingAttention(HeadDim = 128, Element = Element.F32, Causal = true)] [Tile(Q = 128, KV = 16), Warps(4)]",
    ];

    public static TheoryData<string, int> Kernels()
    {
        var data = new TheoryData<string, int>();
        foreach (string kernel in Generated.Value.Keys)
        {
            data.Add(kernel, 80);
            data.Add(kernel, 90);
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(Kernels))]
    public void Step_and_finalize_compile_to_cubin_without_spills_and_within_limits(string kernel, int arch)
    {
        string generated = Generated.Value[kernel];
        string cuda = GeneratorRun.CudaSourceOf(generated);
        string step = EntryPoint(generated, "StepEntryPoint"), finalize = EntryPoint(generated, "FinalizeEntryPoint");
        int sharedBytes = int.Parse(Regex.Match(generated, @"SharedMemoryBytes: (\d+)").Groups[1].Value, CultureInfo.InvariantCulture);
        Assert.DoesNotContain("#include", cuda, StringComparison.Ordinal);

        var result = NvrtcCompiler.Compile(cuda, kernel + ".cu", new CudaTarget(arch, CudaOutput.Cubin));
        Assert.NotEmpty(result.Image);
        foreach (var (entry, dynamicShared) in new[] { (step, sharedBytes), (finalize, 0) })
        {
            Assert.Contains(result.Ptxas!.Functions, f => f.Name == entry);
            var function = result.Ptxas.Function(entry);
            output.WriteLine($"{kernel} sm_{arch} {entry}: {function.Registers} registers, {function.SpillStoreBytes}/{function.SpillLoadBytes} B spilled, " +
                             $"stack {function.StackFrameBytes} B, {function.SharedBytes} B static + {dynamicShared} B dynamic shared (NVRTC {result.NvrtcVersion})");
            Assert.Equal(0, function.SpillStoreBytes);
            Assert.Equal(0, function.SpillLoadBytes);
            Assert.InRange(function.Registers, 1, ArchitectureLimits.MaxRegistersPerThread);
            Assert.InRange(function.SharedBytes + dynamicShared, 0, ArchitectureLimits.MaxSharedBytesPerBlock(arch));
        }
    }

    /// <summary>Generated file of every attention kernel, by qualified name: the matrix and the repository's kernels.</summary>
    private static Dictionary<string, string> GenerateAll()
    {
        var sources = new List<(string Path, string Text)>();
        int index = 0;
        foreach (int headDim in new[] { 64, 128, 256 })
        {
            foreach (string element in new[] { "F32", "F16", "BF16" })
            {
                foreach (bool causal in new[] { false, true })
                {
                    string attributes = $"[RingAttention(HeadDim = {headDim}, Element = Element.{element}, Causal = {(causal ? "true" : "false")}, Layout = RingLayout.Zigzag)] {TileFor(headDim, element)}";
                    sources.Add(Source($"D{headDim}{element}{(causal ? "Causal" : "Full")}", attributes));
                }
            }
        }
        foreach (string attributes in Extra)
        {
            sources.Add(Source($"Extra{index++}", attributes));
        }
        sources.AddRange(RepositoryAttentionSources());
        var run = GeneratorRun.Run(sources.ToArray());
        Assert.Empty(run.GeneratorDiagnostics);
        // Kernels that differ only in their names (e.g. the ring layout, which the CUDA code does not see) compile once.
        var byName = run.GeneratedSources
            .Where(pair => pair.Value.Contains("StepEntryPoint", StringComparison.Ordinal))
            .Select(pair => (Name: pair.Key.Substring(0, pair.Key.Length - ".g.cs".Length), Generated: pair.Value))
            .OrderBy(kernel => kernel.Name.StartsWith("AttentionMatrix.", StringComparison.Ordinal) ? 0 : 1)
            .ThenBy(kernel => kernel.Name, StringComparer.Ordinal);
        var unique = new Dictionary<string, string>();
        var seen = new HashSet<string>();
        foreach (var (name, generated) in byName)
        {
            string cuda = GeneratorRun.CudaSourceOf(generated)
                .Replace(EntryPoint(generated, "StepEntryPoint"), "STEP", StringComparison.Ordinal)
                .Replace(EntryPoint(generated, "FinalizeEntryPoint"), "FINALIZE", StringComparison.Ordinal)
                .Replace(name, "KERNEL", StringComparison.Ordinal);
            if (seen.Add(cuda))
            {
                unique.Add(name, generated);
            }
        }
        return unique;

        static (string Path, string Text) Source(string name, string attributes)
            => ($"{name}.cs", $"using KernelDsl;\nusing KernelDsl.Ring;\nnamespace AttentionMatrix;\n{attributes}\npublic static partial class {name};\n");
    }

    private static string EntryPoint(string generated, string constant)
        => Regex.Match(generated, constant + " = \"(\\w+)\"").Groups[1].Value;

    /// <summary>Every C# file under samples/ and tests/KernelDsl.Tests/ that declares a [RingAttention] kernel.</summary>
    private static IEnumerable<(string Path, string Text)> RepositoryAttentionSources()
        => new[] { "samples", System.IO.Path.Combine("tests", "KernelDsl.Tests") }
            .Select(folder => System.IO.Path.Combine(RepositoryFiles.Root, folder))
            .SelectMany(folder => System.IO.Directory.EnumerateFiles(folder, "*.cs", System.IO.SearchOption.AllDirectories))
            .Where(path => !path.Contains($"{System.IO.Path.DirectorySeparatorChar}obj{System.IO.Path.DirectorySeparatorChar}", StringComparison.Ordinal)
                        && !path.Contains($"{System.IO.Path.DirectorySeparatorChar}bin{System.IO.Path.DirectorySeparatorChar}", StringComparison.Ordinal))
            .Select(path => (Path: path, Text: System.IO.File.ReadAllText(path)))
            .Where(file => file.Text.Contains("[RingAttention(", StringComparison.Ordinal))
            .OrderBy(file => file.Path, StringComparer.Ordinal);
}
