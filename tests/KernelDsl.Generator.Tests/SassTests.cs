using System;
using System.Collections.Generic;
using System.Linq;
using System.Text;
using System.Threading.Tasks;
using KernelDsl.Cuda;
using KernelDsl.Generator.Tests.Infrastructure;
using Xunit;
using Xunit.Abstractions;

namespace KernelDsl.Generator.Tests;

/// <summary>
/// The SASS of every repository kernel (samples, tests, bench) that <see cref="NvrtcKernelTests"/> and
/// <see cref="NvrtcAttentionTests"/> compile (the same CUBINs), disassembled with nvdisasm: the main loop — the loop whose own body (nested tile-copy loops left out) holds
/// most of the kernel's MMAs (FFMAs for SIMT) — uses the expected instructions (HMMA for F16/BF16; for F32, FFMA the
/// most frequent opcode of that body), and no function touches local memory (LDL/STL), which ptxas's spill figures miss
/// when an array is indexed dynamically. The printed counts are static and cover the whole loop nest.
/// No GPU needed; nvdisasm comes with the CUDA 12 tools (<see cref="CudaToolchain"/>).
/// </summary>
public sealed class SassTests(ITestOutputHelper output)
{
    // Dynamically indexed: the array lives in local memory, although ptxas reports no spill.
    private const string LocalArray = """
        extern "C" __global__ void local_array(const int* __restrict__ index, float* __restrict__ out, int n)
        {
            float values[32];
            for (int i = 0; i < 32; ++i) { values[i] = out[i * blockDim.x + threadIdx.x]; }
            float acc = 0.0f;
            for (int k = 0; k < n; ++k) { acc = fmaf(values[index[k] & 31], acc, 1.0f); }
            out[threadIdx.x] = acc;
        }
        """;

    public static TheoryData<string, int, string> Kernels() => GeneratedKernels.Cases(AllKernels().Keys);

    [Theory]
    [MemberData(nameof(Kernels))]
    public void Main_loop_uses_the_expected_instructions_and_no_local_memory(string kernel, int arch, string nvrtc)
    {
        GeneratedKernel generated = AllKernels()[kernel];
        IReadOnlyList<SassFunction> functions = KernelCompilations.Sass(nvrtc, generated, arch);
        Assert.Equal(generated.Entries.Order(StringComparer.Ordinal), functions.Select(f => f.Name).Order(StringComparer.Ordinal));

        var (region, mix, local) = Analyse(functions, generated);
        InstructionMix own = InstructionMix.Of(region.OwnInstructions);
        output.WriteLine(InstructionMix.TableHeader);
        output.WriteLine(mix.TableRow(kernel, arch, VersionOf(nvrtc), region, local));
        output.WriteLine($"main loop of {generated.MainEntry}: {region}; its own body (nested loops left out): {own}");

        Assert.True(region.IsLoop, $"{generated.MainEntry} has no loop holding its MMAs/FFMAs: {region}");
        Assert.Empty(own.Problems(generated.TensorCores, local));
    }

    /// <summary>The table for docs/BENCHMARKS.md: one row per kernel, architecture and NVRTC.</summary>
    [Fact]
    public void Prints_the_main_loop_instruction_mix_of_every_kernel()
    {
        var cases = (from target in CudaToolchain.Targets
                     from kernel in AllKernels().Values.OrderBy(k => k.Name, StringComparer.Ordinal)
                     select (compiler: target.Compiler, kernel, arch: target.Arch)).ToList();

        // The theories need the same images: compile them on every core, once (the store is shared).
        Parallel.ForEach(cases, new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount },
            c => KernelCompilations.Sass(c.compiler, c.kernel, c.arch));

        foreach (var (compiler, _) in CudaToolchain.Targets)
        {
            var table = new StringBuilder();
            table.AppendLine($"NVRTC {VersionOf(compiler)} ({CudaToolchain.Nvrtc(compiler).Name}), nvdisasm {CudaToolchain.Nvdisasm}: static counts in the main loop of each kernel's GEMM or attention-step entry; LDL/STL over all its functions.");
            table.AppendLine(InstructionMix.TableHeader);
            foreach (var (_, kernel, arch) in cases.Where(c => c.compiler == compiler))
            {
                var (region, mix, local) = Analyse(KernelCompilations.Sass(compiler, kernel, arch), kernel);
                table.AppendLine(mix.TableRow(kernel.Name, arch, VersionOf(compiler), region, local));
            }
            output.WriteLine(table.ToString());
        }

        Assert.Equal(cases.Count, cases.Select(c => (c.compiler, c.kernel.Name, c.arch)).Distinct().Count());
    }

    [Fact]
    public void Checker_reports_the_local_memory_of_a_dynamically_indexed_array_that_ptxas_does_not_count_as_spills()
    {
        NvrtcResult result = NvrtcCompiler.Compile(
            CudaToolchain.Nvrtc(CudaToolchain.Nvrtc12), LocalArray, "local_array.cu", new CudaTarget(80, CudaOutput.Cubin));
        SassFunction function = Assert.Single(Nvdisasm.Disassemble(result.Image));
        SassRegion region = function.MainLoop();
        InstructionMix mix = InstructionMix.Of(region.Instructions);
        int local = InstructionMix.Of(function.Instructions).LocalMemory;
        output.WriteLine(mix.TableRow("local_array", 80, result.NvrtcVersion.ToString(), region, local));
        output.WriteLine(string.Join("\n", function.Instructions.Where(i => i.Base is "LDL" or "STL").Select(i => i.Text)));

        PtxasFunction ptxas = result.Ptxas!.Function("local_array");
        Assert.Equal(0, ptxas.SpillStoreBytes + ptxas.SpillLoadBytes);
        Assert.True(ptxas.StackFrameBytes > 0, $"stack frame {ptxas.StackFrameBytes} B");
        Assert.True(region.IsLoop);
        Assert.True(mix.LocalMemory > 0, "the main loop reads the array from local memory");
        Assert.Contains(InstructionMix.Of(region.OwnInstructions).Problems(tensorCores: false, local), p => p.Contains("LDL/STL", StringComparison.Ordinal));
    }

    [Fact]
    public void Checker_reports_a_tensor_core_kernel_without_HMMA_and_a_SIMT_kernel_with_it_or_not_FFMA_dominated()
    {
        GeneratedKernel simt = AllKernels().Values.First(k => !k.TensorCores);
        GeneratedKernel tensor = AllKernels().Values.First(k => k.TensorCores);
        InstructionMix simtMix = OwnMix(simt), tensorMix = OwnMix(tensor);

        Assert.Empty(simtMix.Problems(tensorCores: false, 0));
        Assert.Contains(simtMix.Problems(tensorCores: true, 0), p => p.Contains("no tensor-core instruction", StringComparison.Ordinal));
        Assert.Empty(tensorMix.Problems(tensorCores: true, 0));
        var asSimt = tensorMix.Problems(tensorCores: false, 0);
        Assert.Contains(asSimt, p => p.Contains("in a SIMT kernel", StringComparison.Ordinal));
        Assert.Contains(asSimt, p => p.Contains("not FFMA-dominated", StringComparison.Ordinal));

        static InstructionMix OwnMix(GeneratedKernel kernel) =>
            InstructionMix.Of(Analyse(KernelCompilations.Sass(CudaToolchain.Nvrtc12, kernel, 90), kernel).Region.OwnInstructions);
    }

    [Fact]
    public void Parser_reads_functions_labels_predicates_and_the_innermost_loop_with_the_work()
    {
        const string listing = """
            //--------------------- .text.k --------------------------
            	.section	.text.k,"ax",@progbits
            .text.k:
                    /*0000*/                   MOV R1, c[0x0][0x28] ;
            .L_x_0:
                    /*0010*/                   IADD3 R2, R2, 0x1, RZ ;
            .L_x_1:
                    /*0020*/                   LDGSTS [R3], [R4.64] ;
                    /*0030*/               @P0 BRA `(.L_x_1) ;
                    /*0040*/                   HMMA.16816.F32.BF16 R8, R12, R16, R8 ;
                    /*0050*/                   LDSM.16.M88.4 R12, [R5] ;
                    /*0060*/              @!P1 BRA `(.L_x_0) ;
                    /*0070*/                   STL [R1], R2 ;
                    /*0080*/                   EXIT ;
            //--------------------- .text.other --------------------------
            	.section	.text.other,"ax",@progbits
                    /*0000*/                   FFMA R0, R1, R2, R3 ;
                    /*0010*/                   EXIT ;
            """;

        IReadOnlyList<SassFunction> functions = SassFunction.ParseListing(listing);

        Assert.Equal(["k", "other"], functions.Select(f => f.Name));
        SassFunction k = functions[0];
        Assert.Equal(9, k.Instructions.Count);
        Assert.Equal("BRA", k.Instructions[3].Base);
        Assert.Equal(".L_x_1", k.Instructions[3].Target);
        Assert.Equal([(1, 6), (2, 3)], k.Loops.Select(l => (l.First, l.Last)));
        // The copy loop nested in the outer loop holds no HMMA: the outer loop is the main one, nested loop included.
        SassRegion main = k.MainLoop();
        Assert.Equal((1, 6), (main.First, main.Last));
        Assert.Equal(new InstructionMix(6, 1, 1, 1, 0, 1, 0, "BRA"), InstructionMix.Of(main.Instructions));
        Assert.Equal(["IADD3", "HMMA", "LDSM", "BRA"], main.OwnInstructions.Select(i => i.Base));
        Assert.Equal(1, InstructionMix.Of(k.Instructions).LocalMemory);
        Assert.False(functions[1].MainLoop().IsLoop);
    }

    private static (SassRegion Region, InstructionMix Mix, int LocalMemory) Analyse(IReadOnlyList<SassFunction> functions, GeneratedKernel kernel)
    {
        SassFunction main = functions.Single(f => f.Name == kernel.MainEntry);
        SassRegion region = main.MainLoop();
        return (region, InstructionMix.Of(region.Instructions), functions.Sum(f => InstructionMix.Of(f.Instructions).LocalMemory));
    }

    private static string VersionOf(string compiler) => CudaToolchain.Nvrtc(compiler).Version.ToString();

    private static IReadOnlyDictionary<string, GeneratedKernel> AllKernels() => All.Value;

    private static readonly Lazy<IReadOnlyDictionary<string, GeneratedKernel>> All = new(
        () => NvrtcKernelTests.Generated.Value.Values.Concat(NvrtcAttentionTests.Generated.Value.Values)
            .Where(kernel => kernel.FromRepository)
            .ToDictionary(kernel => kernel.Name));
}
