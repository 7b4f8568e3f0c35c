using System;

namespace KernelDsl.Ring;

/// <summary>
/// Thrown when the MPI ring is asked for but cannot be used here: Open MPI's <c>libmpi.so.40</c> is not
/// installed, the library found is not Open MPI, or it does not provide the thread level the ring needs.
/// The message says which and what to install.
/// </summary>
public sealed class MpiUnavailableException : Exception
{
    internal MpiUnavailableException(string message)
        : base(message)
    {
    }
}
