using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Threading;

namespace KernelDsl.Cuda;

/// <summary>
/// Compiled and loaded kernels, for the process: each (source, entry point, architecture, NVRTC
/// version, options) is compiled once, kept on disk for later processes, and loaded into its
/// device once. On <see cref="CudaDevice.Emulator"/> the C++ compiler builds the kernel library
/// instead (<see cref="Emulation.EmulatorCompiler"/>), cached in the same folder.
/// </summary>
/// <remarks>
/// The folder is <c>$KERNELDSL_CACHE_DIR</c> if set, else <c>$XDG_CACHE_HOME/kerneldsl</c>, else
/// <c>~/.cache/kerneldsl</c>. Entries are checked (length and SHA-256) on every read: a corrupt or
/// truncated one is recompiled, never loaded. If the folder cannot be written, kernels are
/// compiled and kept in memory only, and a warning goes to <see cref="System.Diagnostics.Trace"/>.
/// Deleting the folder is always safe. A lookup hashes the whole source, so launch code should
/// keep the returned <see cref="CudaFunction"/> rather than look it up for every launch.
/// </remarks>
public static class KernelCache
{
    private static readonly ConcurrentDictionary<string, Lazy<CudaFunction>> Functions = new(StringComparer.Ordinal);

    /// <summary>The folder compiled kernels are kept in.</summary>
    public static string Directory => KernelImageCache.Default.Directory;

    /// <summary>The kernel compiled for <see cref="CudaDevice.Default"/>'s own architecture.</summary>
    /// <param name="source">Self-contained CUDA C, e.g. a generated kernel's <c>CudaSource</c>.</param>
    /// <param name="entryPoint">The <c>extern "C"</c> kernel to launch.</param>
    /// <param name="options">NVRTC options after the defaults (architecture, C++17).</param>
    /// <returns>The loaded function; the same instance on every call with the same arguments.</returns>
    /// <exception cref="CudaUnavailableException">There is no CUDA device.</exception>
    /// <exception cref="KernelCompilationException">NVRTC rejected the source; the exception has the full log.</exception>
    /// <exception cref="NvrtcUnavailableException">No NVRTC library could be loaded.</exception>
    /// <exception cref="CudaException">The driver could not load the module or find the entry point.</exception>
    public static CudaFunction GetOrLoad(string source, string entryPoint, IReadOnlyList<string>? options = null) =>
        GetOrLoad(CudaDevice.Default, source, entryPoint, options);

    /// <summary>The kernel compiled for <paramref name="device"/> and loaded into it.</summary>
    /// <param name="device">A GPU (compiled for its own architecture) or <see cref="CudaDevice.Emulator"/>.</param>
    /// <param name="source">Self-contained CUDA C, e.g. a generated kernel's <c>CudaSource</c>.</param>
    /// <param name="entryPoint">The <c>extern "C"</c> kernel to launch.</param>
    /// <param name="options">NVRTC options after the defaults (architecture, C++17); the emulator ignores them.</param>
    /// <returns>The loaded function; the same instance on every call with the same arguments.</returns>
    /// <exception cref="KernelCompilationException">NVRTC (or, on the emulator, the C++ compiler) rejected the source; the exception has the full log.</exception>
    /// <exception cref="NvrtcUnavailableException">No NVRTC library could be loaded.</exception>
    /// <exception cref="Emulation.EmulatorUnavailableException">The emulator was asked for and no C++ compiler was found.</exception>
    /// <exception cref="CudaException">The driver could not load the module or find the entry point.</exception>
    public static CudaFunction GetOrLoad(CudaDevice device, string source, string entryPoint, IReadOnlyList<string>? options = null) =>
        GetOrLoad(device, source, entryPoint, options, archSpecific: false);

    /// <summary>
    /// The kernel compiled for <paramref name="device"/>'s architecture-specific target (<c>sm_90a</c>), for kernels that use
    /// wgmma, setmaxnreg or TMA; check <see cref="CanCompileArchSpecific"/> first. The emulator builds it as any other.
    /// </summary>
    /// <exception cref="NotSupportedException">The device is not compute capability 9.0, or the loaded NVRTC is older than 12.0.</exception>
    internal static CudaFunction GetOrLoadArchSpecific(CudaDevice device, string source, string entryPoint)
    {
        ArgumentNullException.ThrowIfNull(device);
        if (device.Arch != 90)
        {
            // The emulator would run wgmma on any device; a GPU would not load it. Fail the same way on both.
            throw new NotSupportedException($"{entryPoint} is an sm_90a kernel; {device} is sm_{device.Arch}.");
        }

        return GetOrLoad(device, source, entryPoint, options: null, archSpecific: true);
    }

    /// <summary>Whether the NVRTC this process loads compiles architecture-specific targets (12.0 or newer); false without one.</summary>
    internal static bool CanCompileArchSpecific => KernelImageCache.CanCompileArchSpecific;

    private static CudaFunction GetOrLoad(CudaDevice device, string source, string entryPoint, IReadOnlyList<string>? options, bool archSpecific)
    {
        ArgumentNullException.ThrowIfNull(device);
        if (!device.IsEmulated)
        {
            KernelImage image = KernelImageCache.Default.GetOrCompile(source, entryPoint, device.Arch, options, archSpecific: archSpecific);
            return Cached(image.Key, () => Load(device, image, source, entryPoint, device.Arch, options, archSpecific));
        }

        string library = Emulation.EmulatorCompiler.Default.GetOrBuild(source);
        return Cached($"emulator sm_{device.Arch}:{library}:{entryPoint}", () => LoadFunction(CudaModule.LoadEmulated(device, library), entryPoint));
    }

    /// <summary>
    /// The kernel compiled for <paramref name="arch"/> and loaded into <see cref="CudaDevice.Default"/>; when that is the
    /// emulator, the architecture and options do not apply and the emulated kernel is returned.
    /// </summary>
    /// <param name="source">Self-contained CUDA C, e.g. a generated kernel's <c>CudaSource</c>.</param>
    /// <param name="entryPoint">The <c>extern "C"</c> kernel to launch.</param>
    /// <param name="arch">
    /// Compute capability times ten to compile for. A CUBIN for another architecture than the
    /// device's may not load; PTX is then compiled and JIT-compiled by the driver instead.
    /// </param>
    /// <param name="options">NVRTC options after the defaults (architecture, C++17).</param>
    /// <returns>The loaded function; the same instance on every call with the same arguments.</returns>
    /// <exception cref="CudaUnavailableException">There is no CUDA device.</exception>
    /// <exception cref="KernelCompilationException">NVRTC rejected the source; the exception has the full log.</exception>
    /// <exception cref="NvrtcUnavailableException">No NVRTC library could be loaded.</exception>
    /// <exception cref="CudaException">The driver could not load the module or find the entry point.</exception>
    public static CudaFunction GetOrLoad(string source, string entryPoint, int arch, IReadOnlyList<string>? options = null)
    {
        CudaDevice device = CudaDevice.Default;
        if (device.IsEmulated)
        {
            return GetOrLoad(device, source, entryPoint, options);
        }

        KernelImage image = KernelImageCache.Default.GetOrCompile(source, entryPoint, arch, options);
        return Cached(image.Key, () => Load(device, image, source, entryPoint, arch, options, archSpecific: false));
    }

    private static CudaFunction Cached(string key, Func<CudaFunction> load)
    {
        Lazy<CudaFunction> function = Functions.GetOrAdd(key, _ => new Lazy<CudaFunction>(load, LazyThreadSafetyMode.ExecutionAndPublication));
        try
        {
            return function.Value;
        }
        catch
        {
            Functions.TryRemove(new KeyValuePair<string, Lazy<CudaFunction>>(key, function));
            throw;
        }
    }

    // Modules stay loaded for the life of the process, like the functions handed out from them.
    private static CudaFunction Load(
        CudaDevice device, KernelImage image, string source, string entryPoint, int arch, IReadOnlyList<string>? options, bool archSpecific)
    {
        CudaModule module;
        try
        {
            module = CudaModule.Load(device, image.Image, image.Target.Output);
        }
        catch (CudaException e) when (e.Code == (int)CudaResult.NoBinaryForGpu && image.Target.Output == CudaOutput.Cubin)
        {
            // A CUBIN runs only on its own architecture family (sm_80 code does not run on
            // sm_90); PTX for the same architecture runs on every newer device.
            KernelImage ptx = KernelImageCache.Default.GetOrCompile(source, entryPoint, arch, options, CudaOutput.Ptx, archSpecific);
            module = CudaModule.Load(device, ptx.Image, ptx.Target.Output);
        }

        return LoadFunction(module, entryPoint);
    }

    private static CudaFunction LoadFunction(CudaModule module, string entryPoint)
    {
        try
        {
            return module.GetFunction(entryPoint);
        }
        catch
        {
            module.Dispose();
            throw;
        }
    }
}
