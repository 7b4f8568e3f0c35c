using System;
using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Diagnostics;
using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Security.Cryptography;
using System.Text;
using System.Threading;

namespace KernelDsl.Cuda;

/// <summary>
/// The GPU-free half of the kernel cache: source → CUBIN (or PTX) through NVRTC, compiled at
/// most once per key and process, and kept on disk across processes.
/// </summary>
/// <remarks>
/// <para>
/// The key is the SHA-256 of the source, the entry point, the NVRTC version and every NVRTC
/// option (the defaults included, so the architecture, <c>sm_90a</c> or <c>sm_90</c>, and the
/// output kind are in it).
/// </para>
/// <para>
/// An entry on disk is <c>&lt;key&gt;.kdc</c>: the magic <c>KDC1</c>, the payload length
/// (int64, little-endian), the payload's SHA-256, then the payload. A read that finds anything
/// else (short, long, other magic, other hash) is a miss: the kernel is recompiled and the entry
/// rewritten. Writes go to a unique temporary file in the same folder that is renamed over the
/// entry, so a reader never sees a partial entry, whatever other processes do at the same time.
/// </para>
/// </remarks>
internal sealed class KernelImageCache
{
    /// <summary>Environment variable that names the cache folder outright.</summary>
    internal const string DirectoryVariable = "KERNELDSL_CACHE_DIR";

    /// <summary>Magic, payload length and SHA-256.</summary>
    internal const int HeaderBytes = 4 + sizeof(long) + 32;

    /// <summary>Extension of cache entries; temporaries end in <see cref="TemporaryExtension"/>.</summary>
    internal const string EntryExtension = ".kdc";

    /// <summary>Extension of a write in progress.</summary>
    internal const string TemporaryExtension = ".tmp";

    private static readonly Lazy<KernelImageCache> DefaultCache = new(
        () => new KernelImageCache(ResolveDirectory(Environment.GetEnvironmentVariable, Environment.GetFolderPath(Environment.SpecialFolder.UserProfile))),
        LazyThreadSafetyMode.ExecutionAndPublication);

    // The loaded NVRTC cannot change while the process runs. PublicationOnly: a missing NVRTC
    // is reported on every call, not cached as a stale exception.
    private static readonly Lazy<(Version Version, IReadOnlyList<int> Archs)> Toolchain = new(
        () => (NvrtcCompiler.Version, NvrtcCompiler.SupportedArchitectures), LazyThreadSafetyMode.PublicationOnly);

    /// <summary>Whether the process's NVRTC compiles architecture-specific targets; false when none loads.</summary>
    internal static bool CanCompileArchSpecific
    {
        get
        {
            try
            {
                return Toolchain.Value.Version >= NvrtcCompiler.ArchSpecificMinimum;
            }
            catch (NvrtcUnavailableException)
            {
                return false;
            }
        }
    }

    private readonly ConcurrentDictionary<string, Lazy<KernelImage>> images = new(StringComparer.Ordinal);
    private readonly Func<string, string, CudaTarget, IReadOnlyList<string>?, NvrtcResult> compile;
    private readonly Action<string> log;
    private int compileCount;
    private int writesDisabled;

    /// <summary>A cache on <paramref name="directory"/>, created on first write.</summary>
    /// <param name="directory">The cache folder.</param>
    /// <param name="compile">The compiler; <see cref="NvrtcCompiler.Compile(string, string, CudaTarget, IReadOnlyList{string})"/> unless a test counts calls.</param>
    /// <param name="log">Where warnings go (unwritable folder, discarded entries); <see cref="Trace"/> by default.</param>
    internal KernelImageCache(
        string directory,
        Func<string, string, CudaTarget, IReadOnlyList<string>?, NvrtcResult>? compile = null,
        Action<string>? log = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        Directory = directory;
        this.compile = compile ?? NvrtcCompiler.Compile;
        this.log = log ?? (message => Trace.TraceWarning(message));
    }

    /// <summary>The process-wide cache on the folder <see cref="ResolveDirectory"/> picks.</summary>
    internal static KernelImageCache Default => DefaultCache.Value;

    /// <summary>The cache folder.</summary>
    internal string Directory { get; }

    /// <summary>How many times this cache has run the compiler (memory and disk hits do not count).</summary>
    internal int CompileCount => Volatile.Read(ref compileCount);

    /// <summary>
    /// The image for <paramref name="entryPoint"/> in <paramref name="source"/> on <paramref name="arch"/>:
    /// from memory, else from disk, else compiled (and then stored on disk).
    /// </summary>
    /// <param name="source">Self-contained CUDA C.</param>
    /// <param name="entryPoint">The <c>extern "C"</c> kernel; also names the NVRTC program.</param>
    /// <param name="arch">Compute capability times ten.</param>
    /// <param name="options">NVRTC options after the defaults.</param>
    /// <param name="output">CUBIN, or PTX for the driver to JIT. An architecture NVRTC cannot build gets PTX for the newest one below it.</param>
    /// <param name="archSpecific">
    /// Compile for the architecture-specific variant (<c>sm_90a</c>; see <see cref="CudaTarget.ArchSpecific"/>), or, with an
    /// NVRTC older than 12.0, for the plain one with a warning.
    /// </param>
    /// <exception cref="KernelCompilationException">NVRTC rejected the source.</exception>
    /// <exception cref="NotSupportedException">An architecture-specific target of an architecture NVRTC does not know.</exception>
    /// <exception cref="NvrtcUnavailableException">No NVRTC library could be loaded.</exception>
    internal KernelImage GetOrCompile(
        string source,
        string entryPoint,
        int arch,
        IReadOnlyList<string>? options = null,
        CudaOutput output = CudaOutput.Cubin,
        bool archSpecific = false)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentException.ThrowIfNullOrEmpty(entryPoint);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(arch);
        (Version version, IReadOnlyList<int> archs) = Toolchain.Value;
        CudaTarget target = SelectTarget(arch, output, archs, version, archSpecific, log);
        string key = ComputeKey(source, entryPoint, version, NvrtcCompiler.Options(target, options));

        // One Lazy per key: threads asking for the same kernel wait for one compile.
        Lazy<KernelImage> entry = images.GetOrAdd(
            key,
            _ => new Lazy<KernelImage>(
                () => Load(key, source, entryPoint, target, options), LazyThreadSafetyMode.ExecutionAndPublication));
        try
        {
            return entry.Value;
        }
        catch
        {
            // A failed compile is not remembered: the next call reports it afresh.
            images.TryRemove(new KeyValuePair<string, Lazy<KernelImage>>(key, entry));
            throw;
        }
    }

    /// <summary>
    /// The target to compile <paramref name="arch"/> for: itself when NVRTC supports it, else
    /// PTX for the newest supported architecture below it, which the driver JIT-compiles (a newer
    /// device than the toolkit knows, e.g. sm_100 with NVRTC 11.8). An architecture-specific target
    /// (<c>sm_90a</c>) has no such PTX fallback, since its code runs on that one architecture only; an
    /// NVRTC older than 12.0 cannot build it at all, and then gets the plain target with a warning, so
    /// that a machine without NVRTC 12 still runs every kernel that does not need Hopper-only instructions.
    /// </summary>
    /// <param name="arch">Compute capability times ten.</param>
    /// <param name="output">CUBIN or PTX.</param>
    /// <param name="supported">The architectures NVRTC compiles for.</param>
    /// <param name="nvrtc">NVRTC's version.</param>
    /// <param name="archSpecific">Asked for the architecture-specific variant.</param>
    /// <param name="warn">Told when an architecture-specific target falls back to the plain one.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="arch"/> is older than anything NVRTC supports.</exception>
    /// <exception cref="NotSupportedException"><paramref name="archSpecific"/>, and NVRTC does not know <paramref name="arch"/>.</exception>
    internal static CudaTarget SelectTarget(
        int arch, CudaOutput output, IReadOnlyList<int> supported, Version nvrtc, bool archSpecific = false, Action<string>? warn = null)
    {
        if (archSpecific)
        {
            CudaTarget specific = new(arch, output, ArchSpecific: true);
            if (NvrtcCompiler.CannotTarget(specific, nvrtc) is { } problem)
            {
                warn?.Invoke(
                    $"{problem} Compiling for {(specific with { ArchSpecific = false }).GpuArchitecture} instead; a kernel that " +
                    $"uses those instructions fails to compile. NVRTC 12 is found on the library path or in " +
                    $"{NvrtcLibrary.Cuda12Directory}/lib (${NvrtcLibrary.Cuda12DirectoryVariable}).");
            }
            else
            {
                return supported.Contains(arch)
                    ? specific
                    : throw new NotSupportedException(
                        $"NVRTC {nvrtc} compiles for sm_{string.Join(", sm_", supported)}, not for {specific.GpuArchitecture}.");
            }
        }

        if (supported.Contains(arch))
        {
            return new CudaTarget(arch, output);
        }

        int[] older = supported.Where(a => a < arch).ToArray();
        if (older.Length == 0)
        {
            throw new ArgumentOutOfRangeException(
                nameof(arch),
                arch,
                $"NVRTC {nvrtc} compiles for sm_{string.Join(", sm_", supported)}; nothing runs on sm_{arch}.");
        }

        return new CudaTarget(older.Max(), CudaOutput.Ptx);
    }

    /// <summary>SHA-256 hex of everything that determines the compiled image.</summary>
    internal static string ComputeKey(string source, string entryPoint, Version nvrtc, IReadOnlyList<string> options)
    {
        using IncrementalHash hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);

        // Length-prefixed fields: no choice of separator can make two inputs collide.
        void Append(string text)
        {
            byte[] bytes = Encoding.UTF8.GetBytes(text);
            Span<byte> length = stackalloc byte[sizeof(int)];
            BinaryPrimitives.WriteInt32LittleEndian(length, bytes.Length);
            hash.AppendData(length);
            hash.AppendData(bytes);
        }

        // The entry format's version: a new format must not read old entries as its own.
        Append("KDC1");
        Append(source);
        Append(entryPoint);
        Append(nvrtc.ToString());
        Append(options.Count.ToString(CultureInfo.InvariantCulture));
        foreach (string option in options)
        {
            Append(option);
        }

        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }

    /// <summary>
    /// The cache folder: <c>$KERNELDSL_CACHE_DIR</c> if set, else <c>$XDG_CACHE_HOME/kerneldsl</c>
    /// if that is an absolute path (the XDG spec says to ignore a relative one), else
    /// <c>~/.cache/kerneldsl</c>, else (no home) the temp folder.
    /// </summary>
    /// <param name="environment">Reads an environment variable.</param>
    /// <param name="home">The user's home folder; empty when there is none.</param>
    internal static string ResolveDirectory(Func<string, string?> environment, string home)
    {
        string? configured = environment(DirectoryVariable);
        if (!string.IsNullOrWhiteSpace(configured))
        {
            return Path.GetFullPath(configured);
        }

        string? xdg = environment("XDG_CACHE_HOME");
        if (!string.IsNullOrEmpty(xdg) && Path.IsPathFullyQualified(xdg))
        {
            return Path.Combine(xdg, "kerneldsl");
        }

        return Path.Combine(string.IsNullOrEmpty(home) ? Path.GetTempPath() : Path.Combine(home, ".cache"), "kerneldsl");
    }

    /// <summary>The entry file for <paramref name="key"/>.</summary>
    internal string PathFor(string key) => Path.Combine(Directory, key + EntryExtension);

    /// <summary>Frames <paramref name="payload"/> as an entry: header, then payload.</summary>
    internal static byte[] Encode(ReadOnlySpan<byte> payload)
    {
        byte[] entry = new byte[HeaderBytes + payload.Length];
        "KDC1"u8.CopyTo(entry);
        BinaryPrimitives.WriteInt64LittleEndian(entry.AsSpan(4), payload.Length);
        SHA256.HashData(payload, entry.AsSpan(4 + sizeof(long), 32));
        payload.CopyTo(entry.AsSpan(HeaderBytes));
        return entry;
    }

    /// <summary>The payload of a well-formed entry; otherwise <see langword="false"/> and what is wrong.</summary>
    internal static bool TryDecode(byte[] entry, [NotNullWhen(true)] out byte[]? payload, out string problem)
    {
        payload = null;
        if (entry.Length < HeaderBytes)
        {
            problem = $"{entry.Length} bytes is shorter than the {HeaderBytes}-byte header";
            return false;
        }

        if (!entry.AsSpan(0, 4).SequenceEqual("KDC1"u8))
        {
            problem = "the magic is not KDC1";
            return false;
        }

        long length = BinaryPrimitives.ReadInt64LittleEndian(entry.AsSpan(4));
        if (length <= 0 || length != entry.Length - HeaderBytes)
        {
            problem = $"the header announces {length} payload bytes but {entry.Length - HeaderBytes} follow";
            return false;
        }

        ReadOnlySpan<byte> body = entry.AsSpan(HeaderBytes);
        if (!SHA256.HashData(body).AsSpan().SequenceEqual(entry.AsSpan(4 + sizeof(long), 32)))
        {
            problem = "the payload's SHA-256 does not match the header";
            return false;
        }

        payload = body.ToArray();
        problem = "";
        return true;
    }

    private KernelImage Load(string key, string source, string entryPoint, CudaTarget target, IReadOnlyList<string>? options)
    {
        string path = PathFor(key);
        if (TryRead(path) is { } cached)
        {
            return new KernelImage(key, target, cached);
        }

        Interlocked.Increment(ref compileCount);
        NvrtcResult result = compile(source, entryPoint + ".cu", target, options);
        TryWrite(path, result.Image);
        return new KernelImage(key, target, result.Image);
    }

    private byte[]? TryRead(string path)
    {
        byte[] entry;
        try
        {
            entry = File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            log($"KernelDsl: cannot read kernel cache entry '{path}' ({e.Message}); recompiling.");
            return null;
        }

        if (TryDecode(entry, out byte[]? payload, out string problem))
        {
            return payload;
        }

        log($"KernelDsl: discarding kernel cache entry '{path}': {problem}; recompiling.");
        return null;
    }

    private void TryWrite(string path, byte[] payload)
    {
        if (Volatile.Read(ref writesDisabled) != 0)
        {
            return;
        }

        // Unique per writer, in the entry's folder so the rename stays on one file system.
        string temporary = string.Create(
            CultureInfo.InvariantCulture, $"{path}.{Environment.ProcessId}.{Guid.NewGuid():N}{TemporaryExtension}");
        try
        {
            System.IO.Directory.CreateDirectory(Directory);
            using (FileStream stream = new(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None))
            {
                stream.Write(Encode(payload));

                // On disk before the rename, so a crash leaves the old entry or the whole new one.
                stream.Flush(flushToDisk: true);
            }

            File.Move(temporary, path, overwrite: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            try
            {
                File.Delete(temporary);
            }
            catch (Exception cleanup) when (cleanup is IOException or UnauthorizedAccessException)
            {
                // Nothing more to do: the temporary name can never be mistaken for an entry.
            }

            if (Interlocked.Exchange(ref writesDisabled, 1) == 0)
            {
                log($"KernelDsl: kernel cache folder '{Directory}' is not writable ({e.Message}); " +
                    $"compiled kernels are kept in memory only for this process. Set {DirectoryVariable} to a writable folder.");
            }
        }
    }
}
