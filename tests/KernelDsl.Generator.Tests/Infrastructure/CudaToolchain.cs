using System;
using System.Collections.Generic;
using System.IO;
using KernelDsl.Cuda;

namespace KernelDsl.Generator.Tests.Infrastructure;

/// <summary>
/// The NVRTCs and the disassembler the compile and SASS tests use: the system's NVRTC 11 (in CI Debian bookworm's
/// 11.8, <c>libnvrtc.so.11.2</c>) and NVRTC 12 with nvdisasm, which <c>scripts/test.sh</c> unpacks from Debian trixie
/// (<c>require_cuda12_tools</c> in <c>scripts/native-deps.sh</c>) into <see cref="NvrtcLibrary.Cuda12Directory"/>.
/// A missing tool fails the test with the way to install it; it never skips.
/// </summary>
internal static class CudaToolchain
{
    /// <summary>The system's NVRTC 11 (<c>libnvrtc.so.11.2</c>).</summary>
    public const string Nvrtc11 = "nvrtc11";

    /// <summary>NVRTC 12 from <see cref="NvrtcLibrary.Cuda12Directory"/>.</summary>
    public const string Nvrtc12 = "nvrtc12";

    private const string InstallHint =
        "Run scripts/test.sh, which installs it, or in bash: DEPS_CALLER=me; source scripts/native-deps.sh; require_nvrtc; require_cuda12_tools.";

    private static readonly Lazy<NvrtcLibrary> Library11 = new(() => Load("libnvrtc.so.11.2", 11));
    private static readonly Lazy<NvrtcLibrary> Library12 = new(() => Load(Path.Combine(NvrtcLibrary.Cuda12Directory, "lib", "libnvrtc.so.12"), 12));

    /// <summary>
    /// What every kernel is compiled for, each architecture by one NVRTC: Ampere by the system's 11 (what the runtime
    /// finds on CI's machines), Hopper by 12 (what an H100/H200 user needs for sm_90a anyway). Both NVRTCs at both
    /// architectures would double the compile tests' time for little: a register or spill difference between the two
    /// compilers at one architecture is what the SASS and ptxas figures of the other pair already show.
    /// </summary>
    public static IReadOnlyList<(string Compiler, int Arch)> Targets { get; } = [(Nvrtc11, 80), (Nvrtc12, 90)];

    /// <summary><c>nvdisasm</c> from <see cref="NvrtcLibrary.Cuda12Directory"/>.</summary>
    public static string Nvdisasm
    {
        get
        {
            string path = Path.Combine(NvrtcLibrary.Cuda12Directory, "bin", "nvdisasm");
            return File.Exists(path) ? path : throw new InvalidOperationException($"nvdisasm is not at {path}. {InstallHint}");
        }
    }

    /// <summary>The NVRTC named <paramref name="compiler"/>: <see cref="Nvrtc11"/> or <see cref="Nvrtc12"/>.</summary>
    public static NvrtcLibrary Nvrtc(string compiler) => compiler switch
    {
        Nvrtc11 => Library11.Value,
        Nvrtc12 => Library12.Value,
        _ => throw new ArgumentOutOfRangeException(nameof(compiler), compiler, "Neither CudaToolchain.Nvrtc11 nor Nvrtc12."),
    };

    private static NvrtcLibrary Load(string path, int major)
    {
        NvrtcLibrary library;
        try
        {
            library = NvrtcLibrary.Load(path);
        }
        catch (NvrtcUnavailableException e)
        {
            throw new InvalidOperationException($"{e.Message} {InstallHint}", e);
        }

        return library.Version.Major == major
            ? library
            : throw new InvalidOperationException($"{path} is NVRTC {library.Version}, not {major}.x. {InstallHint}");
    }
}
