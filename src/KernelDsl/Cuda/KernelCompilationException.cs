using System;
using System.Collections.Generic;

namespace KernelDsl.Cuda;

/// <summary>Thrown when NVRTC rejects a program; carries the full compiler log.</summary>
public sealed class KernelCompilationException : Exception
{
    internal KernelCompilationException(string programName, IReadOnlyList<string> options, string log, string error)
        : base($"NVRTC could not compile '{programName}' ({error}) with options [{string.Join(" ", options)}]:{Environment.NewLine}{log}")
    {
        ProgramName = programName;
        Options = options;
        Log = log;
    }

    /// <summary>The program name given to NVRTC.</summary>
    public string ProgramName { get; }

    /// <summary>Every option NVRTC was given, defaults included.</summary>
    public IReadOnlyList<string> Options { get; }

    /// <summary>NVRTC's complete log.</summary>
    public string Log { get; }
}
