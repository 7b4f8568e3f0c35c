using System.Collections.Generic;

namespace KernelDsl.GpuRunner;

/// <summary>One kernel class the runner declares: its CUDA C and the entry points to compile and launch.</summary>
internal abstract class KernelCase
{
    /// <summary>The class name, e.g. F16Tn128x256x64.</summary>
    public abstract string Name { get; }

    /// <summary>"gemm" or "attention".</summary>
    public abstract string Kind { get; }

    /// <summary>The generated, self-contained CUDA C.</summary>
    public abstract string Source { get; }

    /// <summary>Each <c>extern "C"</c> entry point with the dynamic shared memory it is launched with.</summary>
    public abstract IReadOnlyList<(string Entry, int DynamicSharedBytes)> Entries { get; }

    /// <summary>The plan in one line (the generated Info).</summary>
    public abstract string Description { get; }

    /// <summary>Whether <see cref="Source"/> is an sm_90a kernel: compiled for the arch-specific target of sm_90 only.</summary>
    public virtual bool ArchSpecific => false;
}
