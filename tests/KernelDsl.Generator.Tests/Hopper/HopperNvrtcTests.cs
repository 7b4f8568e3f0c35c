using System;
using System.Collections.Generic;
using System.Linq;
using KernelDsl.Cuda;
using KernelDsl.Generator.Tests.Infrastructure;
using Xunit;
using Xunit.Abstractions;

namespace KernelDsl.Generator.Tests.Hopper;

/// <summary>
/// The prelude's sm_90a helpers are real PTX: <see cref="TmaWgmmaKernel"/> compiles with NVRTC 12 for sm_90a in every
/// swizzle mode with no spills and no local memory, its <c>setmaxnreg</c> is honoured (no C7508 warning), and the SASS
/// has the Hopper instructions the helpers exist for: HGMMA (wgmma), UTMALDG (TMA tensor loads), SYNCS (mbarriers)
/// and USETMAXREG. No GPU needed.
/// </summary>
public sealed class HopperNvrtcTests(ITestOutputHelper output)
{
    [Theory]
    [MemberData(nameof(TmaWgmmaKernel.Swizzles), MemberType = typeof(TmaWgmmaKernel))]
    public void Tma_wgmma_kernel_compiles_for_sm_90a_into_Hopper_instructions(TensorMapSwizzle swizzle)
    {
        NvrtcLibrary nvrtc = CudaToolchain.Nvrtc(CudaToolchain.Nvrtc12);
        NvrtcResult result = NvrtcCompiler.Compile(
            nvrtc, TmaWgmmaKernel.Source(swizzle), "tma_wgmma_gemm.cu", new CudaTarget(90, CudaOutput.Cubin, ArchSpecific: true));

        PtxasFunction function = result.Ptxas!.Function(TmaWgmmaKernel.Entry);
        SassFunction sass = Assert.Single(Nvdisasm.Disassemble(result.Image));
        var opcodes = sass.Instructions.GroupBy(i => i.Base).ToDictionary(g => g.Key, g => g.Count());
        output.WriteLine($"{swizzle}: {function.Registers} registers, {function.SpillStoreBytes}/{function.SpillLoadBytes} B spilled; " +
                         string.Join(", ", new[] { "HGMMA", "UTMALDG", "SYNCS", "USETMAXREG", "WARPGROUP" }.Select(o => $"{o} {opcodes.GetValueOrDefault(o)}")));
        output.WriteLine(result.Log);
        Assert.Equal(0, function.SpillStoreBytes + function.SpillLoadBytes);
        Assert.DoesNotContain("C7508", result.Log, StringComparison.Ordinal);
        Assert.True(opcodes.GetValueOrDefault("HGMMA") >= 4, "HGMMA");  // 4 per K slice; ptxas may peel the slice loop
        Assert.True(opcodes.GetValueOrDefault("UTMALDG") >= 2, "UTMALDG");
        Assert.True(opcodes.GetValueOrDefault("SYNCS") >= 3, "SYNCS");
        Assert.True(opcodes.GetValueOrDefault("USETMAXREG") >= 2, "USETMAXREG");
        Assert.Equal(0, InstructionMix.Of(sass.Instructions).LocalMemory);
    }
}
