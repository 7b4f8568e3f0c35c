using System;

namespace KernelDsl.Emulation;

/// <summary>The emulator cannot run: no C++ compiler was found, or it could not build the engine. The message says which.</summary>
public sealed class EmulatorUnavailableException : Exception
{
    internal EmulatorUnavailableException(string message)
        : base(message)
    {
    }
}
