using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using System.Threading;
using KernelDsl.Cuda;

namespace KernelDsl.Emulation;

/// <summary>
/// Builds what <see cref="CudaDevice.Emulator"/> runs, with the machine's C++ compiler: the engine
/// (<c>kerneldsl_emulator.cpp</c>) once, and one shared library per kernel source, compiled against the
/// emulation header (<c>kerneldsl_emulation.h</c>). Both ship inside this assembly. Libraries are kept in the
/// kernel cache folder (<see cref="KernelCache.Directory"/>/emulator) under a SHA-256 of everything that
/// determines them, written to a temporary name and renamed, so concurrent processes never load half a file.
/// </summary>
/// <remarks>
/// Kernels are compiled with <c>-fsanitize=thread</c> but linked without the ThreadSanitizer runtime: the
/// instrumentation's <c>__tsan_read/write</c> calls land in the engine, which checks every shared and global
/// access. The compiler is <c>$KERNELDSL_CXX</c> if set, else the first of g++, clang++ and c++ on the PATH.
/// </remarks>
internal sealed partial class EmulatorCompiler
{
    /// <summary>The environment variable naming the C++ compiler to use.</summary>
    internal const string CompilerVariable = "KERNELDSL_CXX";

    private const string HeaderName = "kerneldsl_emulation.h";

    // -fsanitize=thread instruments every access the compiler keeps in memory. -fno-tree-sra keeps a vector load
    // (a float4 through a cast pointer) one 16-byte access instead of four scalar ones, so its alignment is checked
    // as the GPU's 128-bit load would need it. -fno-strict-aliasing: kernels reinterpret shared memory freely.
    private static readonly string[] KernelFlags =
        ["-std=c++17", "-O1", "-g0", "-fPIC", "-fno-strict-aliasing", "-fno-tree-sra", "-fsanitize=thread", "-DKERNELDSL_EMULATION"];
    private const string EngineName = "kerneldsl_emulator.cpp";

    private static readonly Lazy<EmulatorCompiler> DefaultCompiler = new(
        () => new EmulatorCompiler(Path.Combine(KernelCache.Directory, "emulator"), Environment.GetEnvironmentVariable(CompilerVariable)),
        LazyThreadSafetyMode.ExecutionAndPublication);

    private readonly ConcurrentDictionary<string, Lazy<string>> libraries = new(StringComparer.Ordinal);
    private readonly Lazy<Toolchain> toolchain;
    private readonly string directory;
    private readonly string? named;

    /// <summary>A compiler on <paramref name="directory"/>, using <paramref name="compiler"/> or, when null or empty, the first found on the PATH.</summary>
    internal EmulatorCompiler(string directory, string? compiler)
    {
        this.directory = directory;
        named = string.IsNullOrWhiteSpace(compiler) ? null : compiler;
        toolchain = new Lazy<Toolchain>(Prepare, LazyThreadSafetyMode.ExecutionAndPublication);
    }

    /// <summary>The process-wide compiler on the kernel cache folder.</summary>
    internal static EmulatorCompiler Default => DefaultCompiler.Value;

    /// <summary>The engine, built and loaded on first use.</summary>
    /// <exception cref="EmulatorUnavailableException">No C++ compiler was found, or it could not build the engine.</exception>
    internal EmulatorEngine Engine => toolchain.Value.Engine;

    /// <summary>The path of the kernel library for <paramref name="source"/>: from memory, else from disk, else built.</summary>
    /// <exception cref="EmulatorUnavailableException">No C++ compiler was found.</exception>
    /// <exception cref="KernelCompilationException">The compiler rejected the source; the exception has its full output.</exception>
    internal string GetOrBuild(string source)
    {
        ArgumentNullException.ThrowIfNull(source);
        Toolchain tools = toolchain.Value;
        string key = Hash(tools.Key + "\n" + source);
        Lazy<string> library = libraries.GetOrAdd(
            key, _ => new Lazy<string>(() => Build(tools, key, source), LazyThreadSafetyMode.ExecutionAndPublication));
        try
        {
            return library.Value;
        }
        catch
        {
            libraries.TryRemove(new KeyValuePair<string, Lazy<string>>(key, library));
            throw;
        }
    }

    /// <summary>
    /// The kernel text the compiler sees: the source with each dynamic shared array (<c>extern __shared__ T name[];</c>)
    /// made a pointer to the header's shared memory, on the same line so errors keep their line numbers; then one
    /// <c>KD_EMU_ENTRY</c> per <c>extern "C" __global__</c> function with its parameter names, which the header turns
    /// into the exports the runtime loads.
    /// </summary>
    internal static string Translate(string source)
    {
        string body = DynamicSharedPattern().Replace(
            source, m => $"{m.Groups["type"].Value}* const {m.Groups["name"].Value} = reinterpret_cast<{m.Groups["type"].Value}*>(kd_emu_shared_memory);");
        var text = new StringBuilder(body).Append('\n');
        foreach (Match entry in EntryPattern().Matches(source))
        {
            string names = string.Join(",", ParameterNames(source, entry.Index + entry.Length));
            text.Append("KD_EMU_ENTRY(").Append(entry.Groups["name"].Value).Append(", \"").Append(names).Append("\")\n");
        }

        return text.ToString();
    }

    // The text between the parameter list's parentheses, split at top-level commas; a parameter's name is its
    // last identifier.
    private static IEnumerable<string> ParameterNames(string source, int open)
    {
        int depth = 1, start = open;
        var names = new List<string>();
        for (int i = open; i < source.Length && depth > 0; i++)
        {
            char c = source[i];
            if (c == '(')
            {
                depth++;
            }
            else if ((c == ')' && --depth == 0) || (c == ',' && depth == 1))
            {
                Match name = LastIdentifier().Match(source[start..i]);
                if (name.Success)
                {
                    names.Add(name.Value);
                }

                start = i + 1;
            }
        }

        return names;
    }

    private string Build(Toolchain tools, string key, string source)
    {
        string library = Path.Combine(tools.Directory, $"kernel-{key[..16]}.so");
        if (File.Exists(library))
        {
            return library;
        }

        string work = WorkDirectory(tools.Directory);
        try
        {
            string text = Path.Combine(work, "kernel.cu"), obj = Path.Combine(work, "kernel.o");
            File.WriteAllText(text, Translate(source));
            var compile = new List<string>(KernelFlags) { "-include", tools.Header, "-x", "c++", "-c", text, "-o", obj };
            if (!tools.IsClang)
            {
                // The hooks for function entry and exit do nothing in the engine; GCC can leave them out.
                compile.Add("--param=tsan-instrument-func-entry-exit=0");
            }

            Run(tools.Compiler, compile, "kernel");
            string temporary = Path.Combine(work, "kernel.so");
            Run(tools.Compiler, ["-shared", obj, tools.EnginePath, "-Wl,-rpath," + tools.Directory, "-o", temporary], "kernel");
            File.Move(temporary, library, overwrite: true);
            return library;
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    private Toolchain Prepare()
    {
        string compiler = FindCompiler(named) ?? throw new EmulatorUnavailableException(named is null
            ? $"The emulator needs a C++ compiler and none was found on the PATH: install g++ or clang++, or set {CompilerVariable} to one."
            : $"The emulator's C++ compiler {CompilerVariable}={named} was not found.");
        string version = Run(compiler, ["--version"], "version");
        bool clang = version.Contains("clang", StringComparison.OrdinalIgnoreCase);
        string header = Resource(HeaderName), engine = Resource(EngineName);
        string key = Hash(string.Join("\n", [compiler, version, header, engine, .. KernelFlags]));
        string folder = WritableDirectory();
        string headerPath = Path.Combine(folder, $"kerneldsl_emulation-{key[..16]}.h");
        string engineName = $"libkerneldsl_emulator-{key[..16]}.so";
        string enginePath = Path.Combine(folder, engineName);
        if (!File.Exists(headerPath))
        {
            WriteAtomically(headerPath, header);
        }

        if (!File.Exists(enginePath))
        {
            string work = WorkDirectory(folder);
            try
            {
                string text = Path.Combine(work, EngineName), temporary = Path.Combine(work, engineName);
                File.WriteAllText(text, engine);
                Run(compiler, ["-std=c++17", "-O2", "-fPIC", "-shared", "-fvisibility=hidden", "-Wl,-soname," + engineName, text, "-o", temporary], "engine");
                File.Move(temporary, enginePath, overwrite: true);
            }
            catch (KernelCompilationException e)
            {
                throw new EmulatorUnavailableException($"{compiler} could not build the emulator engine: {e.Log}");
            }
            finally
            {
                Directory.Delete(work, recursive: true);
            }
        }

        return new Toolchain(compiler, clang, key, folder, headerPath, enginePath, new EmulatorEngine(enginePath));
    }

    // The cache folder if it can be written, else a folder of this user's in the temporary directory.
    private string WritableDirectory()
    {
        try
        {
            Directory.CreateDirectory(directory);
            string probe = Path.Combine(directory, $".probe-{Environment.ProcessId}");
            File.WriteAllText(probe, "");
            File.Delete(probe);
            return directory;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            string fallback = Path.Combine(Path.GetTempPath(), $"kerneldsl-emulator-{Environment.UserName}");
            Trace.TraceWarning($"KernelDsl emulator: cannot write {directory} ({e.Message}); using {fallback}.");
            Directory.CreateDirectory(fallback);
            return fallback;
        }
    }

    // Inside the cache folder, so the final rename stays on one file system and is atomic.
    private static string WorkDirectory(string folder) =>
        Directory.CreateDirectory(Path.Combine(folder, $"build-{Environment.ProcessId}-{Guid.NewGuid():N}")).FullName;

    // A named compiler is a path or a name looked up on the PATH; without one, g++, clang++ and c++ are tried.
    private static string? FindCompiler(string? named)
    {
        string[] path = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries);
        if (named is not null && Path.IsPathRooted(named))
        {
            return File.Exists(named) ? named : null;
        }

        return (named is null ? ["g++", "clang++", "c++"] : new[] { named })
            .SelectMany(name => path.Select(folder => Path.Combine(folder, name)))
            .FirstOrDefault(File.Exists);
    }

    // Runs the compiler; its whole output becomes the exception on failure.
    private static string Run(string compiler, IReadOnlyList<string> arguments, string what)
    {
        var start = new ProcessStartInfo(compiler) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (string argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using Process process = Process.Start(start) ?? throw new EmulatorUnavailableException($"Could not start {compiler}.");
        var error = process.StandardError.ReadToEndAsync();
        string output = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0)
        {
            throw new KernelCompilationException(
                $"emulated {what}", [compiler, .. arguments], output + error.Result, $"{compiler} exited with {process.ExitCode}");
        }

        return output;
    }

    private static void WriteAtomically(string path, string text)
    {
        string temporary = $"{path}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp";
        File.WriteAllText(temporary, text);
        File.Move(temporary, path, overwrite: true);
    }

    private static string Resource(string name)
    {
        using Stream stream = typeof(EmulatorCompiler).Assembly.GetManifestResourceStream("KernelDsl.Emulation." + name)
            ?? throw new InvalidOperationException($"The runtime assembly lacks its embedded {name}.");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }

    private static string Hash(string text) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)));

    [GeneratedRegex(@"extern\s+""C""\s+__global__\s+void\s+(?:__launch_bounds__\s*\([^)]*\)\s*)?(?<name>\w+)\s*\(")]
    private static partial Regex EntryPattern();

    [GeneratedRegex(@"extern\s+__shared__\s+(?:__align__\s*\(\s*\d+\s*\)\s*)?(?<type>[\w:]+(?:\s+[\w:]+)*?)\s+(?:__align__\s*\(\s*\d+\s*\)\s*)?(?<name>\w+)\s*\[\s*\]\s*;")]
    private static partial Regex DynamicSharedPattern();

    [GeneratedRegex(@"\w+(?=\s*(\[\s*\])?\s*$)")]
    private static partial Regex LastIdentifier();

    private sealed record Toolchain(
        string Compiler, bool IsClang, string Key, string Directory, string Header, string EnginePath, EmulatorEngine Engine);
}
