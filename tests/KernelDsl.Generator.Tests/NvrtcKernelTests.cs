using System;
using System.Collections.Generic;
using System.Linq;
using KernelDsl.Cuda;
using KernelDsl.Generator.Tests.Infrastructure;
using Xunit;
using Xunit.Abstractions;

namespace KernelDsl.Generator.Tests;

/// <summary>
/// Every kernel the samples and tests generate, and a matrix of configurations beyond them, compiles to CUBIN for
/// sm_80 with NVRTC 11 and for sm_90 with NVRTC 12 (<see cref="CudaToolchain.Targets"/>) with no spills, at most 255
/// registers, and shared memory within the architecture's per-block limit; kernels whose CUDA differs only in names
/// compile once. No GPU needed; the CUBINs are shared with <see cref="SassTests"/>.
/// </summary>
public sealed class NvrtcKernelTests(ITestOutputHelper output)
{
    /// <summary>Beyond the repository's kernels: every transpose pair, stages 1–4, odd tiles and every epilogue.</summary>
    private static readonly string[] Matrix =
    [
        "[Gemm(Element.F32)] [Tile(M = 128, N = 128, K = 8), Warps(2, 4), Pipeline(Stages = 1)]",
        "[Gemm(Element.F32, TransposeA = true)] [Tile(M = 128, N = 64, K = 16), Warps(4, 2), Pipeline(Stages = 3)] [Epilogue(Activation = Activation.Gelu)]",
        "[Gemm(Element.F32, TransposeA = true, TransposeB = true)] [Tile(M = 64, N = 128, K = 32), Warps(2, 2), Pipeline(Stages = 4)] [Epilogue(Bias = true, Activation = Activation.Silu)]",
        "[Gemm(Element.F32, TransposeB = true)] [Tile(M = 32, N = 32, K = 32), Warps(1, 1), Pipeline(Stages = 2)] [Epilogue(Bias = true)]",
        "[Gemm(Element.F32)] [Tile(M = 256, N = 128, K = 8), Warps(4, 4), Pipeline(Stages = 2)] [Epilogue(Activation = Activation.Relu)]",
        "[Gemm(Element.F32, TransposeA = true)] [Tile(M = 96, N = 64, K = 8), Warps(3, 2), Pipeline(Stages = 2)]",
        "[Gemm(Element.F32, TransposeB = true)] [Tile(M = 128, N = 256, K = 16), Warps(2, 4), Pipeline(Stages = 4)]",
        // Tensor cores: Triton's standard matmul configurations (tile / stages / warps) over every layout and output type.
        "[Gemm(Element.F16, TransposeB = true, Output = Element.F16)] [Tile(M = 128, N = 256, K = 64), Warps(2, 4), Pipeline(Stages = 3)]",
        "[Gemm(Element.BF16, TransposeB = true, Output = Element.BF16)] [Tile(M = 128, N = 128, K = 32), Warps(2, 2), Pipeline(Stages = 4)] [Epilogue(Bias = true, Activation = Activation.Gelu)]",
        "[Gemm(Element.F16)] [Tile(M = 64, N = 128, K = 32), Warps(2, 2), Pipeline(Stages = 4)] [Epilogue(Activation = Activation.Relu)]",
        "[Gemm(Element.BF16, TransposeA = true)] [Tile(M = 64, N = 32, K = 32), Warps(2, 1), Pipeline(Stages = 5)] [Epilogue(Bias = true)]",
        "[Gemm(Element.F16, TransposeA = true, TransposeB = true, Output = Element.BF16)] [Tile(M = 128, N = 128, K = 64), Warps(2, 2), Pipeline(Stages = 2)] [Epilogue(Activation = Activation.Silu)]",
        "[Gemm(Element.BF16, TransposeB = true)] [Tile(M = 128, N = 128, K = 16), Warps(4, 2), Pipeline(Stages = 1)]",
        // sm_90a kernels at the consumer's register edge: two consumers of two 64-row wgmma blocks (128 accumulators each)
        // with a fused epilogue, and one consumer of one m64n256 block.
        "[Gemm(Element.F16, TransposeB = true, Output = Element.F16)] [Tile(M = 256, N = 128, K = 64), Warps(4, 2), Pipeline(Stages = 3)] [Epilogue(Bias = true, Activation = Activation.Gelu)]",
        "[Gemm(Element.BF16, TransposeB = true)] [Tile(M = 64, N = 256, K = 64), Warps(1, 4), Pipeline(Stages = 3)]",
        // At the register budget's edge (KD0018): 512 threads have 128 registers each; a scalar 6×7 lane block keeps its K step's operands live.
        "[Gemm(Element.BF16)] [Tile(M = 128, N = 128), Warps(4, 4)]",
        "[Gemm(Element.F32)] [Tile(M = 128, N = 128, K = 16), Warps(4, 4)]",
        "[Gemm(Element.F32)] [Tile(M = 96, N = 112, K = 16)]",
    ];

    /// <summary>Every distinct GEMM kernel, by qualified name: the repository's kernels and the matrix.</summary>
    internal static readonly Lazy<IReadOnlyDictionary<string, GeneratedKernel>> Generated = new(() => GeneratedKernels.Generate(
        GeneratedKernel.Family.Gemm, "Matrix", Matrix.Select((attributes, i) => ($"Config{i}", attributes))));

    public static TheoryData<string, int, string> Kernels() => GeneratedKernels.Cases(Generated.Value.Keys);

    [Theory]
    [MemberData(nameof(Kernels))]
    public void Compiles_to_cubin_without_spills_and_within_limits(string kernel, int arch, string nvrtc)
    {
        GeneratedKernel generated = Generated.Value[kernel];
        int sharedBytes = generated.DynamicSharedBytes[0];

        var result = KernelCompilations.Cubin(nvrtc, generated, arch);
        var function = result.Ptxas!.Function(generated.MainEntry);
        output.WriteLine($"{kernel} sm_{arch}: {function.Registers} registers, {function.SpillStoreBytes}/{function.SpillLoadBytes} B spilled, " +
                         $"{function.SharedBytes} B static + {sharedBytes} B dynamic shared (NVRTC {result.NvrtcVersion})");

        Assert.NotEmpty(result.Image);
        Assert.Equal(0, function.SpillStoreBytes);
        Assert.Equal(0, function.SpillLoadBytes);
        Assert.InRange(function.Registers, 1, ArchitectureLimits.MaxRegistersPerThread);
        Assert.InRange(function.SharedBytes + sharedBytes, 1, ArchitectureLimits.MaxSharedBytesPerBlock(arch));
    }
}
