using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;

namespace KernelDsl.GpuRunner;

/// <summary>The command line: a subcommand and --name value options.</summary>
internal sealed class Options
{
    public const string Usage = """
        kerneldsl-gpu: checks and times KernelDsl's generated CUDA kernels (see docs/GPU_NOTES.md).

        usage:
          kerneldsl-gpu info
              device, driver, NVRTC and cuBLAS as this process finds them.
          kerneldsl-gpu check --compile-only [--arch 80,90] [--jobs N] [--filter TEXT] [--json PATH]
              compiles every kernel with NVRTC to CUBIN (ptxas -v): registers, spills, shared memory. No GPU needed.
          kerneldsl-gpu check [--seed N] [--filter TEXT] [--json PATH]
              runs every kernel on the GPU on ragged shapes, outputs poisoned with NaN first, against float64.
          kerneldsl-gpu time [--sizes 4096,8192] [--fp32-sizes 4096] [--samples 25] [--attention-seq 4096,8192,16384]
                             [--heads 16] [--no-cublas] [--no-attention] [--seed N] [--filter TEXT] [--json PATH]
              CUDA-event timing (median of --samples samples) of the GEMMs against cuBLAS (cublasGemmEx, same process)
              and of the attention kernels.

        JSON goes to --json PATH, else to $OUT/<command>.json when OUT is set.
        Environment: KERNELDSL_CUBLAS=/path/to/libcublas.so.13 (else libcublas.so.13/.12/.so by the loader's path),
                     KERNELDSL_CACHE_DIR (kernel cache).
        exit codes: 0 all passed, 1 a check failed, 2 usage error, 3 no CUDA device, 4 no NVRTC, 5 unexpected error.
        """;

    private readonly Dictionary<string, string?> values = new(StringComparer.Ordinal);

    private Options(string command) => Command = command;

    public string Command { get; }

    public bool CompileOnly => Has("compile-only");

    public string? Filter => Value("filter");

    public string? Json => Value("json");

    public bool Has(string name) => values.ContainsKey(name);

    public string? Value(string name) => values.TryGetValue(name, out string? value) ? value : null;

    public int Int(string name, int fallback) => Value(name) is { } text ? int.Parse(text, CultureInfo.InvariantCulture) : fallback;

    public int? OptionalInt(string name) => Value(name) is { } text ? int.Parse(text, CultureInfo.InvariantCulture) : null;

    public IReadOnlyList<int> Ints(string name, params int[] fallback) => Value(name) is { } text
        ? text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(v => int.Parse(v, CultureInfo.InvariantCulture)).ToArray()
        : fallback;

    /// <summary>Parses; null (and a message) for a malformed line.</summary>
    public static Options? Parse(string[] args, out string? error)
    {
        error = null;
        if (args.Length == 0 || args[0] is "-h" or "--help" or "help")
        {
            return null;
        }
        var flags = new HashSet<string>(StringComparer.Ordinal) { "compile-only", "no-cublas", "no-attention" };
        var valued = new HashSet<string>(StringComparer.Ordinal)
        {
            "arch", "jobs", "filter", "json", "seed", "sizes", "fp32-sizes", "samples", "attention-seq", "heads",
        };
        var options = new Options(args[0]);
        if (options.Command is not ("info" or "check" or "time"))
        {
            error = $"unknown command '{args[0]}'";
            return null;
        }
        for (int i = 1; i < args.Length; i++)
        {
            string arg = args[i];
            if (!arg.StartsWith("--", StringComparison.Ordinal))
            {
                error = $"unexpected argument '{arg}'";
                return null;
            }
            string name = arg[2..];
            if (flags.Contains(name))
            {
                options.values[name] = null;
            }
            else if (valued.Contains(name) && i + 1 < args.Length)
            {
                options.values[name] = args[++i];
            }
            else
            {
                error = valued.Contains(name) ? $"--{name} needs a value" : $"unknown option '{arg}'";
                return null;
            }
        }
        try
        {
            // Numbers are parsed here so that a typo fails before any device work.
            _ = options.OptionalInt("seed");
            _ = options.Int("samples", 25);
            _ = options.Int("heads", 16);
            _ = options.Int("jobs", 1);
            _ = options.Ints("arch");
            _ = options.Ints("sizes");
            _ = options.Ints("fp32-sizes");
            _ = options.Ints("attention-seq");
        }
        catch (FormatException e)
        {
            error = e.Message;
            return null;
        }
        return options;
    }
}
