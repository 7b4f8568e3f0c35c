using System;

namespace KernelDsl.Emulation;

/// <summary>
/// An emulated kernel did what a GPU would hide or show only as wrong numbers: a shared-memory race, a divergent
/// barrier, an out-of-bounds access, a read of data a <c>cp.async</c> has not delivered. The message names the
/// kernel, the block, the thread and the source line.
/// </summary>
public sealed class EmulatorFaultException : Exception
{
    internal EmulatorFaultException(string kernel, string message)
        : base(message)
    {
        Kernel = kernel;
    }

    /// <summary>The entry point that faulted.</summary>
    public string Kernel { get; }
}
