using System;
using System.Text;
using KernelDsl.Cuda;
using Xunit;

namespace KernelDsl.Tests.Cuda;

/// <summary>
/// Real NVRTC compiles. No GPU is needed: NVRTC and ptxas run on the CPU, so these run in CI
/// wherever libnvrtc is installed (see docs; Debian: libnvrtc11.2).
/// </summary>
public sealed class NvrtcCompilerTests
{
    // Self-contained like generated code: no #include, an extern "C" entry, a static shared
    // tile (128 floats = 512 bytes) filled with cp.async where the architecture has it.
    private const string CopyTile = """
        extern "C" __global__ void copy_tile(const float* __restrict__ src, float* __restrict__ dst)
        {
            __shared__ float tile[128];
            const unsigned int t = threadIdx.x;
            const float* from = src + blockIdx.x * 128 + t;
        #if __CUDA_ARCH__ >= 800
            const unsigned int to = static_cast<unsigned int>(__cvta_generic_to_shared(&tile[t]));
            asm volatile("cp.async.ca.shared.global [%0], [%1], 4;\n" :: "r"(to), "l"(from));
            asm volatile("cp.async.wait_all;\n" ::);
        #else
            tile[t] = *from;
        #endif
            __syncthreads();
            dst[blockIdx.x * 128 + t] = tile[127 - t] * 2.0f;
        }
        """;

    [Theory]
    [InlineData(80)]
    [InlineData(90)]
    public void Cubin_reports_registers_smem_and_no_spills(int arch)
    {
        NvrtcResult result = NvrtcCompiler.Compile(CopyTile, "copy_tile.cu", new CudaTarget(arch, CudaOutput.Cubin));

        PtxasFunction copy = result.Ptxas!.Function("copy_tile");
        Assert.InRange(copy.Registers, 1, ArchitectureLimits.MaxRegistersPerThread);
        Assert.Equal(512, copy.SharedBytes);
        Assert.Equal(0, copy.SpillStoreBytes);
        Assert.Equal(0, copy.SpillLoadBytes);
        // An ELF image, not text.
        Assert.Equal("\u007fELF"u8.ToArray(), result.Image[..4]);
        Assert.Contains($"for 'sm_{arch}'", result.Log);
    }

    [Fact]
    public void Ptx_is_text_with_the_entry_and_no_ptxas_report()
    {
        NvrtcResult result = NvrtcCompiler.Compile(CopyTile, "copy_tile.cu", new CudaTarget(80, CudaOutput.Ptx));

        string ptx = Encoding.UTF8.GetString(result.Image);
        Assert.Contains(".entry copy_tile", ptx);
        Assert.Contains(".target sm_80", ptx);
        Assert.Contains("cp.async.ca.shared.global", ptx);
        Assert.DoesNotContain('\0', ptx);
        Assert.Null(result.Ptxas);
        Assert.True(result.NvrtcVersion.Major >= 11, $"NVRTC {result.NvrtcVersion}");
    }

    [Fact]
    public void Extra_options_reach_the_compiler()
    {
        const string source = """
            #ifndef TILE
            #error TILE must be defined
            #endif
            extern "C" __global__ void fill(float* x) { x[threadIdx.x] = TILE; }
            """;

        NvrtcResult result = NvrtcCompiler.Compile(source, "fill.cu", new CudaTarget(80, CudaOutput.Ptx), ["-DTILE=64"]);

        Assert.Contains(".entry fill", Encoding.UTF8.GetString(result.Image));
    }

    [Fact]
    public void Supported_architectures_include_ampere_and_hopper()
    {
        Assert.Contains(80, NvrtcCompiler.SupportedArchitectures);
        Assert.Contains(90, NvrtcCompiler.SupportedArchitectures);
    }

    [Fact]
    public void Syntax_error_throws_with_the_log_and_program_name()
    {
        const string source = """extern "C" __global__ void broken(float* x) { x[0] = ; }""";

        KernelCompilationException error = Assert.Throws<KernelCompilationException>(
            () => NvrtcCompiler.Compile(source, "broken_kernel.cu", new CudaTarget(80, CudaOutput.Cubin)));

        Assert.Contains("expected an expression", error.Log);
        Assert.Contains("broken_kernel.cu", error.Message);
        Assert.Contains(error.Log, error.Message);
        Assert.Equal("broken_kernel.cu", error.ProgramName);
        Assert.Contains("--gpu-architecture=sm_80", error.Options);
    }

    [Theory]
    [InlineData(90, CudaOutput.Cubin, false, "sm_90")]
    [InlineData(90, CudaOutput.Cubin, true, "sm_90a")]
    [InlineData(90, CudaOutput.Ptx, true, "compute_90a")]
    [InlineData(80, CudaOutput.Ptx, false, "compute_80")]
    public void Arch_specific_targets_append_a(int arch, CudaOutput output, bool archSpecific, string expected)
    {
        CudaTarget target = new(arch, output, archSpecific);

        Assert.Equal(expected, target.GpuArchitecture);
        Assert.Equal("--gpu-architecture=" + expected, NvrtcCompiler.Options(target, null)[0]);
    }

    [Fact]
    public void Arch_specific_target_before_nvrtc_12_is_named_as_the_problem()
    {
        CudaTarget sm90a = new(90, CudaOutput.Cubin, ArchSpecific: true);

        string? problem = NvrtcCompiler.CannotTarget(sm90a, new Version(11, 8));

        Assert.Equal(
            "NVRTC 11.8 cannot compile for sm_90a: architecture-specific targets (wgmma, setmaxnreg, TMA) need NVRTC 12.0 or newer.",
            problem);
        Assert.Null(NvrtcCompiler.CannotTarget(sm90a, new Version(12, 4)));
        Assert.Null(NvrtcCompiler.CannotTarget(sm90a with { ArchSpecific = false }, new Version(11, 8)));
    }

    [Fact]
    public void Loading_the_default_by_name_gives_the_same_library()
    {
        NvrtcLibrary nvrtc = NvrtcLibrary.Default;

        Assert.Same(nvrtc, NvrtcLibrary.Load(nvrtc.Name));
        Assert.Equal(NvrtcCompiler.Version, nvrtc.Version);
        Assert.Equal(NvrtcCompiler.SupportedArchitectures, nvrtc.SupportedArchitectures);
        Assert.Contains($"NVRTC {nvrtc.Version}", nvrtc.ToString());
    }

    [Fact]
    public void Loading_a_missing_file_or_another_library_says_what_went_wrong()
    {
        NvrtcUnavailableException missing = Assert.Throws<NvrtcUnavailableException>(
            () => NvrtcLibrary.Load("/nonexistent/kerneldsl/libnvrtc.so.12"));
        NvrtcUnavailableException notNvrtc = Assert.Throws<NvrtcUnavailableException>(() => NvrtcLibrary.Load("libc.so.6"));

        Assert.Equal(["/nonexistent/kerneldsl/libnvrtc.so.12"], missing.TriedNames);
        Assert.Contains("'/nonexistent/kerneldsl/libnvrtc.so.12'", missing.Message);
        Assert.Contains("lacks nvrtcGetErrorString", notNvrtc.Message);
    }
}
