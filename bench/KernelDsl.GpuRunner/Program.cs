using System;
using KernelDsl.GpuRunner;

// The GPU bench runner (docs/GPU_NOTES.md): info | check [--compile-only] | time. Exit codes in Options.Usage.
Options? options = Options.Parse(args, out string? error);
if (options is null)
{
    if (error is not null)
    {
        Console.Error.WriteLine($"kerneldsl-gpu: {error}");
    }
    Console.Error.WriteLine(Options.Usage);
    return error is null && args.Length > 0 ? ExitCodes.Passed : ExitCodes.Usage;
}

try
{
    return options.Command switch
    {
        "info" => InfoCommand.Run(options),
        "check" when options.CompileOnly => CompileCommand.Run(options),
        "check" => CheckCommand.Run(options),
        _ => TimeCommand.Run(options),
    };
}
catch (Exception e)
{
    // A sticky CUDA error (an illegal address in a kernel) ends every later call: report it, do not hang on.
    Console.Error.WriteLine($"kerneldsl-gpu: unexpected {e}");
    return ExitCodes.Unexpected;
}
