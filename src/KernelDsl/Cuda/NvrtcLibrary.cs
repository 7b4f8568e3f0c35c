using System;
using System.Collections.Generic;
using System.IO;
using System.Runtime.InteropServices;

namespace KernelDsl.Cuda;

/// <summary>
/// One loaded NVRTC shared library. <see cref="Default"/> is the one the runtime compiles with; <see cref="Load"/>
/// opens a specific one beside it, so that one process can compile with several NVRTC versions (the system's
/// 11.8 and an unpacked 12.4 for <c>sm_90a</c>, say). Pass it to
/// <see cref="NvrtcCompiler.Compile(NvrtcLibrary, string, string, CudaTarget, IReadOnlyList{string})"/>.
/// </summary>
/// <remarks>
/// A library, once loaded, stays loaded for the life of the process; loading the same name or path again
/// returns the same instance.
/// </remarks>
public sealed class NvrtcLibrary
{
    /// <summary>Environment variable naming a folder with an unpacked CUDA 12 toolkit (<c>lib/libnvrtc.so.12</c>).</summary>
    public const string Cuda12DirectoryVariable = "KERNELDSL_CUDA12_DIR";

    // Guards every field below; TryOpen runs under it.
    private static readonly Dictionary<string, NvrtcLibrary> Loaded = new(StringComparer.Ordinal);
    private static NvrtcLibrary? defaultLibrary;
    private static bool defaultSettled;

    private NvrtcLibrary(string name, Nvrtc api)
    {
        Name = name;
        Api = api;
        api.Check(api.Version(out int major, out int minor), "nvrtcVersion");
        Version = new Version(major, minor);
        SupportedArchitectures = api.SupportedArchs();
    }

    /// <summary>
    /// The NVRTC the runtime uses: the first of <see cref="DefaultCandidates"/> that loads. Once found it stays the
    /// default for the process.
    /// </summary>
    /// <remarks>
    /// The system loader matches a soname against the libraries already loaded, so once <see cref="Load"/> has opened
    /// a <c>libnvrtc.so.12</c> from some folder, probing <c>libnvrtc.so.12</c> would return that one. The first
    /// <see cref="Load"/> therefore settles the default beforehand, and a default not found then is not probed again.
    /// </remarks>
    /// <exception cref="NvrtcUnavailableException">None of them could be loaded (asked again on every call until one is, or until the first <see cref="Load"/>).</exception>
    public static NvrtcLibrary Default
    {
        get
        {
            lock (Loaded)
            {
                if (defaultLibrary is null && !defaultSettled)
                {
                    foreach (string candidate in DefaultCandidates())
                    {
                        if (TryOpen(candidate, out NvrtcLibrary? library, out _))
                        {
                            defaultLibrary = library;
                            break;
                        }
                    }
                }

                return defaultLibrary ?? throw new NvrtcUnavailableException(DefaultCandidates());
            }
        }
    }

    /// <summary>
    /// The folder <c>scripts/native-deps.sh</c> unpacks Debian's CUDA 12 packages into (<c>lib/</c>, <c>bin/</c>):
    /// <c>$KERNELDSL_CUDA12_DIR</c> if set, else <c>$XDG_CACHE_HOME/kerneldsl/cuda12</c> if that is absolute,
    /// else <c>~/.cache/kerneldsl/cuda12</c> (the script's <c>cuda12_dir</c> follows the same rule).
    /// </summary>
    public static string Cuda12Directory
    {
        get
        {
            string? configured = Environment.GetEnvironmentVariable(Cuda12DirectoryVariable);
            if (!string.IsNullOrEmpty(configured))
            {
                return Path.GetFullPath(configured);
            }

            string? xdg = Environment.GetEnvironmentVariable("XDG_CACHE_HOME");
            string cache = !string.IsNullOrEmpty(xdg) && Path.IsPathFullyQualified(xdg)
                ? xdg
                : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache");
            return Path.Combine(cache, "kerneldsl", "cuda12");
        }
    }

    /// <summary>The soname or full path the library was loaded by.</summary>
    public string Name { get; }

    /// <summary>NVRTC's version (major and minor, e.g. 12.4).</summary>
    public Version Version { get; }

    /// <summary>The real architectures (compute capability times ten) it compiles for, oldest first.</summary>
    public IReadOnlyList<int> SupportedArchitectures { get; }

    /// <summary>The raw entry points.</summary>
    internal Nvrtc Api { get; }

    /// <summary>
    /// What <see cref="Default"/> probes, newest first, so a machine with several toolkits gets the newest NVRTC: the
    /// system's 13 and 12, the unpacked 12 in <see cref="Cuda12Directory"/>, the system's 11.2 (CUDA 11.x), and the bare
    /// <c>libnvrtc.so</c> last because only -dev packages install it.
    /// </summary>
    internal static IReadOnlyList<string> DefaultCandidates() =>
        ["libnvrtc.so.13", "libnvrtc.so.12", Path.Combine(Cuda12Directory, "lib", "libnvrtc.so.12"), "libnvrtc.so.11.2", "libnvrtc.so"];

    /// <summary>Loads the NVRTC at <paramref name="path"/>, e.g. <c>/opt/cuda-12.4/lib/libnvrtc.so.12</c>.</summary>
    /// <remarks>
    /// NVRTC opens its builtins library (<c>libnvrtc-builtins.so.MAJOR.MINOR</c>) by name when it first compiles,
    /// which the system loader finds only on its search path. When <paramref name="path"/> is a path and that
    /// file lies next to it, it is loaded first, so a toolkit unpacked anywhere works without
    /// <c>LD_LIBRARY_PATH</c>.
    /// </remarks>
    /// <param name="path">A path to the library, or a soname the system loader resolves (<c>libnvrtc.so.11.2</c>).</param>
    /// <exception cref="NvrtcUnavailableException">The library does not load, or is no NVRTC.</exception>
    public static NvrtcLibrary Load(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        string name = path.Contains('/', StringComparison.Ordinal) ? Path.GetFullPath(path) : path;
        lock (Loaded)
        {
            SettleDefault();
            return TryOpen(name, out NvrtcLibrary? library, out string problem)
                ? library
                : throw new NvrtcUnavailableException([name], $"NVRTC could not be loaded from '{name}': {problem}.");
        }
    }

    /// <inheritdoc/>
    public override string ToString() => $"NVRTC {Version} ({Name})";

    // Under the lock: probes the default once more unless it is known, then never again.
    private static void SettleDefault()
    {
        try
        {
            _ = Default;
        }
        catch (NvrtcUnavailableException)
        {
            // No system NVRTC: Default keeps saying so, however many are loaded by path.
        }

        defaultSettled = true;
    }

    private static bool TryOpen(string name, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out NvrtcLibrary? library, out string problem)
    {
        lock (Loaded)
        {
            if (Loaded.TryGetValue(name, out library))
            {
                problem = "";
                return true;
            }

            IntPtr handle;
            try
            {
                handle = NativeLibrary.Load(name);
            }
            catch (Exception e) when (e is DllNotFoundException or BadImageFormatException)
            {
                problem = e.Message;
                return false;
            }

            if (Nvrtc.TryBind(handle, out IReadOnlyList<string> missing) is not { } api)
            {
                problem = $"it lacks {string.Join(", ", missing)}";
                return false;
            }

            library = new NvrtcLibrary(name, api);
            PreloadBuiltins(name, library.Version);
            Loaded[name] = library;
            problem = "";
            return true;
        }
    }

    // Once a library with the builtins' soname is loaded, NVRTC's own dlopen of that name returns it.
    private static void PreloadBuiltins(string name, Version version)
    {
        if (!Path.IsPathFullyQualified(name))
        {
            return;
        }

        string builtins = Path.Combine(Path.GetDirectoryName(name)!, $"libnvrtc-builtins.so.{version.Major}.{version.Minor}");
        if (File.Exists(builtins))
        {
            NativeLibrary.Load(builtins);
        }
    }
}
