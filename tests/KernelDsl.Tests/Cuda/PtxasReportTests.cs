using System.Collections.Generic;
using KernelDsl.Cuda;
using Xunit;

namespace KernelDsl.Tests.Cuda;

public sealed class PtxasReportTests
{
    [Fact]
    public void Parses_each_entry_and_ignores_device_function_properties()
    {
        // Verbatim NVRTC 11.8 output for sm_80: 'spill' spills and calls the non-inlined
        // helper, whose properties block follows the entry's "Used" line and must not
        // overwrite the entry's figures; 'copy_tile' has static shared memory.
        const string log = """
            ptxas info    : 0 bytes gmem
            ptxas info    : Compiling entry function 'spill' for 'sm_80'
            ptxas info    : Function properties for spill
            ptxas         .     224 bytes stack frame, 408 bytes spill stores, 1024 bytes spill loads
            ptxas info    : Used 64 registers, 372 bytes cmem[0]
            ptxas info    : Function properties for _Z6helperfi
            ptxas         .     0 bytes stack frame, 20 bytes spill stores, 20 bytes spill loads
            ptxas info    : Compiling entry function 'copy_tile' for 'sm_80'
            ptxas info    : Function properties for copy_tile
            ptxas         .     0 bytes stack frame, 0 bytes spill stores, 0 bytes spill loads
            ptxas info    : Used 12 registers, 512 bytes smem, 368 bytes cmem[0]
            """;

        PtxasReport report = PtxasReport.Parse(log);

        Assert.Equal(
            new[]
            {
                new PtxasFunction("spill", 64, 0, 408, 1024, 224),
                new PtxasFunction("copy_tile", 12, 512, 0, 0, 0),
            },
            report.Functions);
    }

    [Fact]
    public void Reads_the_cuda12_used_line_with_barriers()
    {
        const string log = """
            ptxas info    : Compiling entry function 'attn_fwd' for 'sm_90'
            ptxas info    : Function properties for attn_fwd
            ptxas         .     0 bytes stack frame, 0 bytes spill stores, 0 bytes spill loads
            ptxas info    : Used 168 registers, used 1 barriers, 49152 bytes smem
            """;

        Assert.Equal(new PtxasFunction("attn_fwd", 168, 49152, 0, 0, 0), PtxasReport.Parse(log).Function("attn_fwd"));
    }

    [Fact]
    public void Log_without_ptxas_lines_gives_an_empty_report()
    {
        Assert.Empty(PtxasReport.Parse("").Functions);
    }

    [Fact]
    public void Function_lookup_names_the_available_entries_when_missing()
    {
        PtxasReport report = new([new PtxasFunction("a", 1, 0, 0, 0, 0)]);

        KeyNotFoundException error = Assert.Throws<KeyNotFoundException>(() => report.Function("b"));
        Assert.Contains("[a]", error.Message);
    }
}
