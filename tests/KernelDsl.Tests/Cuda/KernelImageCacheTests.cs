using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;
using System.Threading.Tasks;
using KernelDsl.Cuda;
using Xunit;

namespace KernelDsl.Tests.Cuda;

/// <summary>
/// The disk and memory cache with real NVRTC compiles (no GPU needed). Each test gets its own
/// folder; a second cache instance on the same folder plays a later process.
/// </summary>
public sealed class KernelImageCacheTests : IDisposable
{
    private const string Scale = """
        extern "C" __global__ void scale(float* x, float a, int n)
        {
            const int i = blockIdx.x * blockDim.x + threadIdx.x;
            if (i < n) { x[i] *= a; }
        }
        """;

    private readonly string folder = Path.Combine(Path.GetTempPath(), "kerneldsl-tests", Guid.NewGuid().ToString("N"));
    private readonly ConcurrentQueue<string> logged = new();

    public enum Damage
    {
        Truncated,
        HeaderOnly,
        Empty,
        FlippedPayloadByte,
        FlippedHashByte,
        WrongMagic,
        TrailingGarbage,
    }

    public void Dispose()
    {
        if (Directory.Exists(folder))
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public void Miss_compiles_once_then_memory_and_disk_hit_without_nvrtc()
    {
        KernelImageCache first = NewCache();

        KernelImage compiled = first.GetOrCompile(Scale, "scale", 80);
        KernelImage again = first.GetOrCompile(Scale, "scale", 80);
        KernelImageCache later = NewCache();
        KernelImage fromDisk = later.GetOrCompile(Scale, "scale", 80);

        Assert.Equal(1, first.CompileCount);
        Assert.Same(compiled, again);
        Assert.Equal(0, later.CompileCount);
        Assert.Equal(compiled.Image, fromDisk.Image);
        Assert.Equal(new CudaTarget(80, CudaOutput.Cubin), fromDisk.Target);
        Assert.Equal("\u007fELF"u8.ToArray(), fromDisk.Image[..4]);
        Assert.Equal([first.PathFor(compiled.Key)], Directory.GetFiles(folder));
        Assert.Empty(logged);
    }

    [Theory]
    [InlineData(Damage.Truncated)]
    [InlineData(Damage.HeaderOnly)]
    [InlineData(Damage.Empty)]
    [InlineData(Damage.FlippedPayloadByte)]
    [InlineData(Damage.FlippedHashByte)]
    [InlineData(Damage.WrongMagic)]
    [InlineData(Damage.TrailingGarbage)]
    public void Damaged_entry_is_recompiled_and_rewritten_never_trusted(Damage damage)
    {
        KernelImage original = NewCache().GetOrCompile(Scale, "scale", 80);
        string path = NewCache().PathFor(original.Key);
        byte[] entry = File.ReadAllBytes(path);
        File.WriteAllBytes(path, Apply(damage, entry));

        KernelImageCache later = NewCache();
        KernelImage image = later.GetOrCompile(Scale, "scale", 80);

        Assert.Equal(1, later.CompileCount);
        Assert.Equal(original.Image, image.Image);
        Assert.Equal(entry, File.ReadAllBytes(path));
        Assert.Contains(logged, line => line.Contains("discarding kernel cache entry", StringComparison.Ordinal));
        AssertNoTemporaryFiles();
    }

    [Fact]
    public void Entry_framing_round_trips_and_names_the_problem()
    {
        byte[] payload = Encoding.UTF8.GetBytes("payload");
        byte[] entry = KernelImageCache.Encode(payload);

        Assert.Equal(KernelImageCache.HeaderBytes + payload.Length, entry.Length);
        Assert.Equal("KDC1"u8.ToArray(), entry[..4]);
        Assert.True(KernelImageCache.TryDecode(entry, out byte[]? decoded, out _));
        Assert.Equal(payload, decoded);

        entry[^1] ^= 0x01;
        Assert.False(KernelImageCache.TryDecode(entry, out _, out string problem));
        Assert.Contains("SHA-256", problem);
    }

    [Fact]
    public void Keys_differ_for_every_input_that_changes_the_image()
    {
        Version nvrtc = new(11, 8);
        string[] options = ["--gpu-architecture=sm_80", "--std=c++17"];
        string key = KernelImageCache.ComputeKey(Scale, "scale", nvrtc, options);

        string[] variants =
        [
            KernelImageCache.ComputeKey(Scale + " ", "scale", nvrtc, options),
            KernelImageCache.ComputeKey(Scale, "scale2", nvrtc, options),
            KernelImageCache.ComputeKey(Scale, "scale", new Version(12, 4), options),
            KernelImageCache.ComputeKey(Scale, "scale", nvrtc, ["--gpu-architecture=sm_90", "--std=c++17"]),
            KernelImageCache.ComputeKey(Scale, "scale", nvrtc, ["--gpu-architecture=sm_90a", "--std=c++17"]),
            KernelImageCache.ComputeKey(Scale, "scale", nvrtc, [.. options, "-DTILE=64"]),
            // Moving text between fields must not collide.
            KernelImageCache.ComputeKey(Scale, "scale", nvrtc, ["--gpu-architecture=sm_80--std=c++17"]),
        ];

        Assert.Matches("^[0-9a-f]{64}$", key);
        Assert.Equal(key, KernelImageCache.ComputeKey(Scale, "scale", nvrtc, options));
        Assert.Equal(variants.Length + 1, variants.Append(key).Distinct().Count());
    }

    [Fact]
    public void Architecture_and_options_give_separate_entries()
    {
        KernelImageCache cache = NewCache();

        string[] keys =
        [
            cache.GetOrCompile(Scale, "scale", 80).Key,
            cache.GetOrCompile(Scale, "scale", 90).Key,
            cache.GetOrCompile(Scale, "scale", 80, ["-DUNUSED=1"]).Key,
            cache.GetOrCompile(Scale, "scale", 80, output: CudaOutput.Ptx).Key,
        ];

        Assert.Equal(4, keys.Distinct().Count());
        Assert.Equal(4, cache.CompileCount);
        Assert.Equal(4, Directory.GetFiles(folder).Length);
    }

    [Fact]
    public void Concurrent_requests_compile_once_and_agree()
    {
        KernelImageCache cache = NewCache();

        KernelImage[] images = new KernelImage[8];
        Parallel.For(0, images.Length, new ParallelOptions { MaxDegreeOfParallelism = 8 }, i => images[i] = cache.GetOrCompile(Scale, "scale", 80));

        Assert.Equal(1, cache.CompileCount);
        Assert.All(images, image => Assert.Same(images[0], image));
        Assert.True(KernelImageCache.TryDecode(File.ReadAllBytes(cache.PathFor(images[0].Key)), out _, out _));
        AssertNoTemporaryFiles();
    }

    [Fact]
    public void Processes_racing_on_one_folder_leave_one_valid_entry()
    {
        KernelImageCache[] processes = [NewCache(), NewCache(), NewCache()];

        KernelImage[] images = processes.AsParallel().Select(cache => cache.GetOrCompile(Scale, "scale", 80)).ToArray();

        Assert.All(images, image => Assert.Equal(images[0].Image, image.Image));
        Assert.Single(Directory.GetFiles(folder));
        Assert.True(KernelImageCache.TryDecode(File.ReadAllBytes(processes[0].PathFor(images[0].Key)), out byte[]? payload, out _));
        Assert.Equal(images[0].Image, payload);
    }

    [Fact]
    public void Unwritable_folder_still_compiles_and_says_so_once()
    {
        // A folder under a regular file cannot be created, even by root.
        Directory.CreateDirectory(folder);
        string blocker = Path.Combine(folder, "not-a-folder");
        File.WriteAllText(blocker, "");
        KernelImageCache cache = new(Path.Combine(blocker, "cache"), log: logged.Enqueue);

        KernelImage first = cache.GetOrCompile(Scale, "scale", 80);
        KernelImage second = cache.GetOrCompile(Scale, "scale", 90);
        KernelImage again = cache.GetOrCompile(Scale, "scale", 80);

        Assert.NotEmpty(first.Image);
        Assert.NotEmpty(second.Image);
        Assert.Same(first, again);
        Assert.Equal(2, cache.CompileCount);
        Assert.StartsWith("KernelDsl: kernel cache folder", Assert.Single(logged));
        Assert.Equal([blocker], Directory.GetFileSystemEntries(folder));
    }

    [Fact]
    public void Compile_errors_propagate_with_the_log_and_are_not_cached()
    {
        KernelImageCache cache = NewCache();
        const string broken = """extern "C" __global__ void broken(float* x) { x[0] = ; }""";

        KernelCompilationException error = Assert.Throws<KernelCompilationException>(() => cache.GetOrCompile(broken, "broken", 80));
        Assert.Throws<KernelCompilationException>(() => cache.GetOrCompile(broken, "broken", 80));

        Assert.Equal("broken.cu", error.ProgramName);
        Assert.Contains("expected an expression", error.Log);
        Assert.Contains("--gpu-architecture=sm_80", error.Options);
        Assert.Equal(2, cache.CompileCount);
        Assert.False(Directory.Exists(folder) && Directory.EnumerateFileSystemEntries(folder).Any());
    }

    [Theory]
    [InlineData(90, CudaOutput.Cubin, 90, CudaOutput.Cubin)]
    [InlineData(80, CudaOutput.Ptx, 80, CudaOutput.Ptx)]
    [InlineData(100, CudaOutput.Cubin, 90, CudaOutput.Ptx)]
    [InlineData(88, CudaOutput.Cubin, 87, CudaOutput.Ptx)]
    public void Architectures_nvrtc_cannot_build_fall_back_to_ptx_below_them(
        int arch, CudaOutput output, int targetArch, CudaOutput targetOutput)
    {
        int[] supported = [75, 80, 86, 87, 89, 90];

        Assert.Equal(
            new CudaTarget(targetArch, targetOutput),
            KernelImageCache.SelectTarget(arch, output, supported, new Version(11, 8)));
    }

    [Fact]
    public void Arch_specific_and_plain_targets_get_different_keys()
    {
        Version nvrtc = new(12, 4);
        string plain = KernelImageCache.ComputeKey(Scale, "scale", nvrtc, NvrtcCompiler.Options(new CudaTarget(90, CudaOutput.Cubin), null));
        string specific = KernelImageCache.ComputeKey(
            Scale, "scale", nvrtc, NvrtcCompiler.Options(new CudaTarget(90, CudaOutput.Cubin, ArchSpecific: true), null));

        Assert.NotEqual(plain, specific);
    }

    [Fact]
    public void Arch_specific_target_is_kept_and_never_falls_back_to_older_ptx()
    {
        int[] supported = [75, 80, 86, 87, 89, 90];

        Assert.Equal(
            new CudaTarget(90, CudaOutput.Cubin, ArchSpecific: true),
            KernelImageCache.SelectTarget(90, CudaOutput.Cubin, supported, new Version(12, 4), archSpecific: true));
        NotSupportedException unknown = Assert.Throws<NotSupportedException>(
            () => KernelImageCache.SelectTarget(100, CudaOutput.Cubin, supported, new Version(12, 4), archSpecific: true));

        Assert.Contains("not for sm_100a", unknown.Message);
    }

    [Fact]
    public void Arch_specific_target_before_nvrtc_12_falls_back_to_the_plain_one_with_a_warning()
    {
        var warnings = new List<string>();

        CudaTarget target = KernelImageCache.SelectTarget(
            90, CudaOutput.Cubin, [75, 80, 86, 87, 89, 90], new Version(11, 8), archSpecific: true, warnings.Add);

        Assert.Equal(new CudaTarget(90, CudaOutput.Cubin), target);
        string warning = Assert.Single(warnings);
        Assert.Contains("NVRTC 11.8 cannot compile for sm_90a", warning);
        Assert.Contains("Compiling for sm_90 instead", warning);
        Assert.Contains(NvrtcLibrary.Cuda12DirectoryVariable, warning);
    }

    [Fact]
    public void Architecture_older_than_nvrtc_supports_is_rejected()
    {
        ArgumentOutOfRangeException error = Assert.Throws<ArgumentOutOfRangeException>(
            () => KernelImageCache.SelectTarget(30, CudaOutput.Cubin, [75, 80], new Version(12, 0)));

        Assert.Contains("sm_75, sm_80", error.Message);
    }

    [Fact]
    public void Future_architecture_gets_ptx_for_the_newest_nvrtc_knows()
    {
        KernelImageCache cache = NewCache();
        int newest = NvrtcCompiler.SupportedArchitectures.Max();

        KernelImage image = cache.GetOrCompile(Scale, "scale", 990);

        Assert.Equal(new CudaTarget(newest, CudaOutput.Ptx), image.Target);
        Assert.Contains(".entry scale", Encoding.UTF8.GetString(image.Image));
    }

    [Theory]
    [InlineData("/explicit", "/xdg", "/home/u", "/explicit")]
    [InlineData(null, "/xdg", "/home/u", "/xdg/kerneldsl")]
    [InlineData(null, "relative/xdg", "/home/u", "/home/u/.cache/kerneldsl")]
    [InlineData("", "", "/home/u", "/home/u/.cache/kerneldsl")]
    [InlineData(null, null, "/home/u", "/home/u/.cache/kerneldsl")]
    public void Folder_comes_from_KERNELDSL_CACHE_DIR_then_XDG_then_home(
        string? explicitFolder, string? xdg, string home, string expected)
    {
        Dictionary<string, string?> environment = new()
        {
            ["KERNELDSL_CACHE_DIR"] = explicitFolder,
            ["XDG_CACHE_HOME"] = xdg,
        };

        Assert.Equal(expected, KernelImageCache.ResolveDirectory(name => environment.GetValueOrDefault(name), home));
    }

    private static byte[] Apply(Damage damage, byte[] entry)
    {
        byte[] damaged = (byte[])entry.Clone();
        switch (damage)
        {
            case Damage.Truncated:
                return damaged[..(entry.Length / 2)];
            case Damage.HeaderOnly:
                return damaged[..KernelImageCache.HeaderBytes];
            case Damage.Empty:
                return [];
            case Damage.FlippedPayloadByte:
                damaged[KernelImageCache.HeaderBytes + (entry.Length - KernelImageCache.HeaderBytes) / 2] ^= 0x40;
                return damaged;
            case Damage.FlippedHashByte:
                damaged[20] ^= 0x01;
                return damaged;
            case Damage.WrongMagic:
                damaged[3] = (byte)'0';
                return damaged;
            default:
                return [.. damaged, 0, 0, 0, 0];
        }
    }

    private KernelImageCache NewCache() => new(folder, log: logged.Enqueue);

    private void AssertNoTemporaryFiles() =>
        Assert.Empty(Directory.GetFiles(folder, "*" + KernelImageCache.TemporaryExtension));
}
