using System;
using System.Linq;
using KernelDsl.Cuda;
using KernelDsl.Generator.Tests.Infrastructure;
using Xunit;
using Xunit.Abstractions;

namespace KernelDsl.Generator.Tests;

/// <summary>
/// The architecture-specific target <c>sm_90a</c>: a hand-written Hopper <c>wgmma.mma_async</c> kernel compiles for it
/// with NVRTC 12 (and becomes HGMMA in the SASS), NVRTC 12 rejects it for plain <c>sm_90</c>, and an NVRTC older than
/// 12.0 is refused with a message that says why. No GPU needed.
/// </summary>
public sealed class NvrtcArchSpecificTests(ITestOutputHelper output)
{
    // One warpgroup: D (64×16 fp32, 8 values a thread) += A (64×16 bf16) · B (16×16 bf16), both read from shared
    // memory through matrix descriptors (their contents do not matter to the compiler).
    private const string Wgmma = """
        extern "C" __global__ void __launch_bounds__(128, 1) wgmma_probe(const unsigned long long* __restrict__ descriptors, float* __restrict__ out)
        {
            float d[8];
            for (int i = 0; i < 8; ++i) { d[i] = 0.0f; }
            const unsigned long long a = descriptors[0], b = descriptors[1];
            asm volatile("wgmma.fence.sync.aligned;\n" ::: "memory");
            asm volatile(
                "{\n.reg .pred p;\nsetp.ne.b32 p, %10, 0;\n"
                "wgmma.mma_async.sync.aligned.m64n16k16.f32.bf16.bf16 {%0, %1, %2, %3, %4, %5, %6, %7}, %8, %9, p, 1, 1, 0, 0;\n}\n"
                : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3]), "+f"(d[4]), "+f"(d[5]), "+f"(d[6]), "+f"(d[7])
                : "l"(a), "l"(b), "r"(1));
            asm volatile("wgmma.commit_group.sync.aligned;\n" ::: "memory");
            asm volatile("wgmma.wait_group.sync.aligned 0;\n" ::: "memory");
            for (int i = 0; i < 8; ++i) { out[threadIdx.x * 8 + i] = d[i]; }
        }
        """;

    private static readonly CudaTarget Sm90a = new(90, CudaOutput.Cubin, ArchSpecific: true);

    [Fact]
    public void Wgmma_compiles_for_sm_90a_with_nvrtc_12_into_HGMMA()
    {
        NvrtcLibrary nvrtc = CudaToolchain.Nvrtc(CudaToolchain.Nvrtc12);

        NvrtcResult result = NvrtcCompiler.Compile(nvrtc, Wgmma, "wgmma_probe.cu", Sm90a);

        PtxasFunction function = result.Ptxas!.Function("wgmma_probe");
        output.WriteLine($"{nvrtc}, sm_90a: {function.Registers} registers, {function.SpillStoreBytes}/{function.SpillLoadBytes} B spilled");
        Assert.Contains("for 'sm_90a'", result.Log, StringComparison.Ordinal);
        Assert.Equal(0, function.SpillStoreBytes + function.SpillLoadBytes);
        SassFunction sass = Assert.Single(Nvdisasm.Disassemble(result.Image));
        Assert.Contains(sass.Instructions, i => i.Base == "HGMMA");
        Assert.Equal(0, InstructionMix.Of(sass.Instructions).LocalMemory);
    }

    [Fact]
    public void Wgmma_is_rejected_for_plain_sm_90()
    {
        NvrtcLibrary nvrtc = CudaToolchain.Nvrtc(CudaToolchain.Nvrtc12);

        KernelCompilationException error = Assert.Throws<KernelCompilationException>(
            () => NvrtcCompiler.Compile(nvrtc, Wgmma, "wgmma_probe.cu", new CudaTarget(90, CudaOutput.Cubin)));

        output.WriteLine(error.Log);
        Assert.Contains("wgmma", error.Log, StringComparison.Ordinal);
        Assert.Contains("--gpu-architecture=sm_90", error.Options);
    }

    [Fact]
    public void Sm_90a_with_nvrtc_11_is_a_clear_error()
    {
        NvrtcLibrary nvrtc = CudaToolchain.Nvrtc(CudaToolchain.Nvrtc11);

        NotSupportedException error = Assert.Throws<NotSupportedException>(() => NvrtcCompiler.Compile(nvrtc, Wgmma, "wgmma_probe.cu", Sm90a));

        output.WriteLine(error.Message);
        Assert.Contains($"NVRTC {nvrtc.Version} cannot compile for sm_90a", error.Message, StringComparison.Ordinal);
        Assert.Contains("need NVRTC 12.0 or newer", error.Message, StringComparison.Ordinal);
        Assert.Contains(nvrtc.Name, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Nvrtc_11_and_12_are_loaded_side_by_side_and_the_runtime_finds_the_unpacked_12()
    {
        NvrtcLibrary nvrtc11 = CudaToolchain.Nvrtc(CudaToolchain.Nvrtc11);
        NvrtcLibrary nvrtc12 = CudaToolchain.Nvrtc(CudaToolchain.Nvrtc12);
        const string source = """extern "C" __global__ void one(float* x) { x[threadIdx.x] = 1.0f; }""";

        NvrtcResult by11 = NvrtcCompiler.Compile(nvrtc11, source, "one.cu", new CudaTarget(80, CudaOutput.Ptx));
        NvrtcResult by12 = NvrtcCompiler.Compile(nvrtc12, source, "one.cu", new CudaTarget(80, CudaOutput.Ptx));

        output.WriteLine($"{nvrtc11}; {nvrtc12}; runtime default {NvrtcLibrary.Default}");
        Assert.Equal(11, by11.NvrtcVersion.Major);
        Assert.Equal(12, by12.NvrtcVersion.Major);
        Assert.Contains("release 12.", System.Text.Encoding.UTF8.GetString(by12.Image), StringComparison.Ordinal);
        Assert.Same(nvrtc12, NvrtcLibrary.Load(nvrtc12.Name));
        // Newest first: with NVRTC 12 unpacked, the runtime compiles with it (or with a newer system one).
        Assert.True(NvrtcLibrary.Default.Version >= nvrtc12.Version, $"runtime default {NvrtcLibrary.Default}");
    }
}
