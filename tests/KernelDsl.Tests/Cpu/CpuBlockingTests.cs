using System;
using System.IO;
using KernelDsl.Cpu;
using Xunit;
using Xunit.Abstractions;

namespace KernelDsl.Tests.Cpu;

/// <summary>
/// The CPU GEMM's blocking is sized at run time for the caches of the machine: read from sysfs (here from folders laid
/// out as Linux has them), else CPUID, else a fallback; then BLIS's formulas.
/// </summary>
public sealed class CpuBlockingTests(ITestOutputHelper output) : IDisposable
{
    private readonly string root = Directory.CreateTempSubdirectory("kerneldsl-caches-").FullName;

    public void Dispose() => Directory.Delete(root, recursive: true);

    /// <summary>A Zen 1 EPYC core as sysfs shows it: 32 KiB L1d and L1i, 512 KiB L2 per core (2 SMT threads), 8 MiB L3 per 4-core CCX.</summary>
    [Fact]
    public void Sysfs_caches_of_a_zen1_core_are_read_with_the_l3_shared_by_its_cpus()
    {
        WriteCache(0, level: 1, "Data", "32K", "0,32");
        WriteCache(1, level: 1, "Instruction", "64K", "0,32");
        WriteCache(2, level: 2, "Unified", "512K", "0,32");
        WriteCache(3, level: 3, "Unified", "8192K", "0-3,32-35");
        var caches = CpuCaches.FromSysfs(root);
        Assert.Equal(new CpuCaches(32 * 1024, 512 * 1024, 1024 * 1024, "sysfs"), caches);
    }

    [Fact]
    public void Missing_or_incomplete_sysfs_gives_null()
    {
        Assert.Null(CpuCaches.FromSysfs(Path.Combine(root, "absent")));
        WriteCache(0, level: 1, "Data", "48K", "0");
        Assert.Null(CpuCaches.FromSysfs(root));  // no L2
        File.WriteAllText(Path.Combine(root, "index0", "size"), "lots");
        Assert.Null(CpuCaches.FromSysfs(root));
    }

    [Theory]
    [InlineData("0", 1)]
    [InlineData("0-3", 4)]
    [InlineData("0-3,8-11", 8)]
    [InlineData("0,32", 2)]
    public void Cpu_lists_are_counted(string list, int count) => Assert.Equal(count, CpuCaches.CountCpus(list));

    [Theory]
    [InlineData("48K", 48 * 1024)]
    [InlineData("32M", 32L * 1024 * 1024)]
    [InlineData("4096", 4096)]
    public void Sizes_are_parsed(string text, long bytes) => Assert.Equal(bytes, CpuCaches.ParseSize(text));

    /// <summary>
    /// The formulas, by hand. Zen 1 (32 KiB L1d, 512 KiB L2, 1 MiB L3 per core) with AVX-512's 8×32 tile:
    /// Kc = 1.5·32 KiB / (32 columns · 4 B) = 384; Mc = 256 KiB / (384 · 4 B) = 170 → 168 (whole 8-row slivers);
    /// Nc = 2 MiB / (384 · 4 B) = 1365 → 1344 (whole 32-column slivers). A 48 KiB L1d gives Kc = 576, clamped to 512.
    /// </summary>
    [Fact]
    public void Blocking_follows_the_caches()
    {
        var zen1 = new CpuCaches(32 * 1024, 512 * 1024, 1024 * 1024, "test");
        Assert.Equal(new CpuBlocking(CpuIsa.Vector512, 8, 32, 384, 168, 1344), CpuBlocking.For(CpuIsa.Vector512, 8, 32, zen1));
        Assert.Equal(new CpuBlocking(CpuIsa.Vector256, 6, 16, 512, 126, 1024), CpuBlocking.For(CpuIsa.Vector256, 6, 16, zen1));
        var zen5 = new CpuCaches(48 * 1024, 1024 * 1024, 4 * 1024 * 1024, "test");
        Assert.Equal(new CpuBlocking(CpuIsa.Vector512, 8, 32, 512, 256, 4096), CpuBlocking.For(CpuIsa.Vector512, 8, 32, zen5));
    }

    /// <summary>Info shows this machine's blocking and where its cache sizes came from.</summary>
    [Fact]
    public void Info_reports_this_machines_blocking_and_caches()
    {
        var info = Plain.Info;
        var expected = CpuBlocking.For(CpuFeatures.Best, info.CpuBlockingFor(CpuFeatures.Best).Mr, info.CpuBlockingFor(CpuFeatures.Best).Nr, CpuCaches.ThisMachine);
        Assert.Equal(expected, info.CpuBlockingFor(CpuFeatures.Best));
        Assert.Contains(CpuCaches.ThisMachine.ToString(), info.ToString());
        output.WriteLine(info.ToString());
    }

    private void WriteCache(int index, int level, string type, string size, string sharedCpus)
    {
        string folder = Directory.CreateDirectory(Path.Combine(root, "index" + index)).FullName;
        File.WriteAllText(Path.Combine(folder, "level"), level + "\n");
        File.WriteAllText(Path.Combine(folder, "type"), type + "\n");
        File.WriteAllText(Path.Combine(folder, "size"), size + "\n");
        File.WriteAllText(Path.Combine(folder, "shared_cpu_list"), sharedCpus + "\n");
    }
}
