using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Text.RegularExpressions;
using KernelDsl.Cuda;
using KernelDsl.Generator.Tests.Infrastructure;
using Xunit;
using Xunit.Abstractions;

namespace KernelDsl.Generator.Tests.Hopper;

/// <summary>
/// Every generated sm_90a GEMM kernel (<c>CudaSourceSm90a</c>: the repository's and the configuration matrix's of
/// <see cref="NvrtcKernelTests"/>) compiles with NVRTC 12 for sm_90a with no spills and no local memory, its
/// <c>setmaxnreg</c> honoured (no C7508), within sm_90's shared memory; its main loop holds the block's wgmmas
/// (HGMMA) and the producer's TMA loads (UTMALDG) are there. The printed rows are docs/BENCHMARKS.md's sm_90a table.
/// No GPU needed.
/// </summary>
public sealed class GeneratedHopperGemmTests(ITestOutputHelper output)
{
    public static TheoryData<string> Kernels() => new(Sm90aKernels().Keys.Order(StringComparer.Ordinal));

    [Theory]
    [MemberData(nameof(Kernels))]
    public void Compiles_for_sm_90a_into_wgmma_and_tma_without_spills(string kernel)
    {
        GeneratedKernel generated = Sm90aKernels()[kernel];
        NvrtcResult result = KernelCompilations.Cubin(CudaToolchain.Nvrtc12, generated, 90);
        PtxasFunction function = result.Ptxas!.Function(generated.MainEntry);
        SassFunction sass = KernelCompilations.Sass(CudaToolchain.Nvrtc12, generated, 90).Single(f => f.Name == generated.MainEntry);
        // The K loop: the innermost loop with wgmmas (ptxas may peel slices into the tile loop around it). Per warp, one
        // m64nNk16 is N/8 of mma.sync's m16n8k16, the unit of the sm_80 table.
        SassRegion loop = sass.Loops.Where(l => l.Instructions.Any(i => i.Base == "HGMMA")).MinBy(l => l.Length) ?? sass.Whole;
        InstructionMix mix = InstructionMix.Of(loop.Instructions), whole = InstructionMix.Of(sass.Instructions);
        int tileN = int.Parse(Regex.Match(generated.Cuda, @"TN = (\d+)").Groups[1].Value, CultureInfo.InvariantCulture);
        double perMma = (double)mix.IntegerAddress / Math.Max(1, mix.Hmma * tileN / 8);
        int tma = sass.Instructions.Count(i => i.Base == "UTMALDG");
        output.WriteLine("| kernel | registers | spills | shared B | K-loop HGMMA | int/addr | int/addr per m16n8k16 | UTMALDG | LDL/STL |");
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"| {kernel} | {function.Registers} | {function.SpillStoreBytes + function.SpillLoadBytes} | {generated.DynamicSharedBytes[0]} | " +
            $"{mix.Hmma} | {mix.IntegerAddress} | {perMma:0.00} | {tma} | {whole.LocalMemory} |"));
        output.WriteLine(result.Log);

        Assert.Equal(0, function.SpillStoreBytes + function.SpillLoadBytes);
        Assert.DoesNotContain("C7508", result.Log, StringComparison.Ordinal);
        Assert.Equal(0, whole.LocalMemory);
        Assert.InRange(function.SharedBytes + generated.DynamicSharedBytes[0], 1, ArchitectureLimits.MaxSharedBytesPerBlock(90));
        Assert.True(loop.IsLoop && mix.Hmma > 0, $"no loop holds the HGMMAs: {loop}");
        Assert.Equal(mix.Hmma, InstructionMix.Of(loop.Instructions.Where(i => i.Base == "HGMMA")).Hmma);  // wgmma, not mma.sync
        Assert.True(tma >= 2, $"{tma} UTMALDG");
    }

    /// <summary>
    /// The C7508 check catches an ignored <c>setmaxnreg</c>: without <c>__launch_bounds__</c> ptxas cannot tell the
    /// registers a warp holds at entry and drops the exchange, so the consumers would run with the launch's allocation.
    /// </summary>
    [Fact]
    public void Checker_reports_a_setmaxnreg_that_ptxas_ignores()
    {
        GeneratedKernel generated = Sm90aKernels().Values.First();
        string unbounded = generated.Cuda.Replace("__launch_bounds__(THREADS, 1) ", "", StringComparison.Ordinal);
        Assert.NotEqual(generated.Cuda, unbounded);
        NvrtcResult result = NvrtcCompiler.Compile(
            CudaToolchain.Nvrtc(CudaToolchain.Nvrtc12), unbounded, "unbounded.cu", new CudaTarget(90, CudaOutput.Cubin, ArchSpecific: true));
        output.WriteLine(result.Log);
        Assert.Contains("C7508", result.Log, StringComparison.Ordinal);
    }

    private static IReadOnlyDictionary<string, GeneratedKernel> Sm90aKernels() => All.Value;

    private static readonly Lazy<IReadOnlyDictionary<string, GeneratedKernel>> All = new(() => NvrtcKernelTests.Generated.Value.Values
        .Select(kernel => kernel.Sm90a)
        .OfType<GeneratedKernel>()
        .ToDictionary(kernel => kernel.Name));
}
