using System;
using System.Collections.Generic;
using System.Linq;
using System.Text.RegularExpressions;
using KernelDsl.Cuda;
using KernelDsl.Generator.Tests.Infrastructure;
using Xunit;
using Xunit.Abstractions;

namespace KernelDsl.Generator.Tests;

/// <summary>
/// The ring-attention kernels — step and finalize, and the backward pass's step, delta and gradient kernels — of a matrix of valid configurations (d ∈ {64, 128, 256} ×
/// F32/F16/BF16 × causal or not, with tiles that fit), of a few odd shapes and of the repository's own attention
/// kernels compile to CUBIN for sm_80 with NVRTC 11 and for sm_90 with NVRTC 12 (<see cref="CudaToolchain.Targets"/>)
/// with no spills, at most 255 registers, and shared memory within the architecture's per-block limit; kernels whose
/// CUDA differs only in names compile once. No GPU needed; the registers of every kernel are in the test output, and
/// the CUBINs are shared with <see cref="SassTests"/>.
/// </summary>
public sealed class NvrtcAttentionTests(ITestOutputHelper output)
{
    /// <summary>Every distinct attention kernel, by qualified name: the matrix and the repository's kernels.</summary>
    internal static readonly Lazy<IReadOnlyDictionary<string, GeneratedKernel>> Generated = new(
        () => GeneratedKernels.Generate(GeneratedKernel.Family.Attention, "AttentionMatrix", Matrix())
            .Values.SelectMany(kernel => kernel.Backward is { } backward ? new[] { kernel, backward } : [kernel])
            .ToDictionary(kernel => kernel.Name));

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
    /// warp, SIMT lane grids with mirrored lanes, a set scale, tiles at the register budget, and d = 144, the largest with a CUDA backward pass.
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
        "[RingAttention(HeadDim = 144, Element = Element.BF16, Causal = true)] [Tile(Q = 64, KV = 32), Warps(4)]",
    ];

    public static TheoryData<string, int, string> Kernels() => GeneratedKernels.Cases(Generated.Value.Keys);

    [Theory]
    [MemberData(nameof(Kernels))]
    public void Step_and_finalize_compile_to_cubin_without_spills_and_within_limits(string kernel, int arch, string nvrtc)
    {
        GeneratedKernel generated = Generated.Value[kernel];
        Assert.DoesNotContain("#include", generated.Cuda, StringComparison.Ordinal);

        var result = KernelCompilations.Cubin(nvrtc, generated, arch);
        Assert.NotEmpty(result.Image);
        foreach (var (entry, dynamicShared) in generated.Entries.Zip(generated.DynamicSharedBytes))
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

    /// <summary>The d × element × causal grid, then <see cref="Extra"/>: class name and attributes.</summary>
    private static IEnumerable<(string Name, string Attributes)> Matrix()
    {
        foreach (int headDim in new[] { 64, 128, 256 })
        {
            foreach (string element in new[] { "F32", "F16", "BF16" })
            {
                foreach (bool causal in new[] { false, true })
                {
                    yield return ($"D{headDim}{element}{(causal ? "Causal" : "Full")}",
                        $"[RingAttention(HeadDim = {headDim}, Element = Element.{element}, Causal = {(causal ? "true" : "false")}, Layout = RingLayout.Zigzag)] {TileFor(headDim, element)}");
                }
            }
        }
        foreach (var (attributes, i) in Extra.Select((attributes, i) => (attributes, i)))
        {
            yield return ($"Extra{i}", attributes);
        }
    }
}
