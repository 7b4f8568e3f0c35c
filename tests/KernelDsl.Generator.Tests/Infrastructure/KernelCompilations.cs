using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using KernelDsl.Cuda;

namespace KernelDsl.Generator.Tests.Infrastructure;

/// <summary>
/// CUBINs and their disassembly, made once per (NVRTC, kernel, architecture) and process and shared by every test
/// that needs them: the compile tests and the SASS tests look at the same images. A failure is remembered too, so
/// each test that needs the image reports the same exception.
/// </summary>
internal static class KernelCompilations
{
    private static readonly ConcurrentDictionary<(string Compiler, string Kernel, int Arch), Lazy<NvrtcResult>> Cubins = new();
    private static readonly ConcurrentDictionary<(string Compiler, string Kernel, int Arch), Lazy<IReadOnlyList<SassFunction>>> Listings = new();

    /// <summary>The CUBIN of <paramref name="kernel"/> for sm_<paramref name="arch"/> (sm_<paramref name="arch"/>a for an <see cref="GeneratedKernel.ArchSpecific"/> one) by the NVRTC <paramref name="compiler"/>.</summary>
    public static NvrtcResult Cubin(string compiler, GeneratedKernel kernel, int arch) =>
        Cubins.GetOrAdd(
            (compiler, kernel.Name, arch),
            _ => new Lazy<NvrtcResult>(() => NvrtcCompiler.Compile(
                CudaToolchain.Nvrtc(compiler), kernel.Cuda, kernel.Name + ".cu", new CudaTarget(arch, CudaOutput.Cubin, ArchSpecific: kernel.ArchSpecific)))).Value;

    /// <summary>The SASS of every function in <see cref="Cubin"/>'s image.</summary>
    public static IReadOnlyList<SassFunction> Sass(string compiler, GeneratedKernel kernel, int arch) =>
        Listings.GetOrAdd(
            (compiler, kernel.Name, arch),
            _ => new Lazy<IReadOnlyList<SassFunction>>(() => Nvdisasm.Disassemble(Cubin(compiler, kernel, arch).Image))).Value;
}
