using System;

namespace KernelDsl.Ring;

/// <summary>
/// Thrown when the NCCL ring is asked for but cannot be used here: <c>libnccl.so.2</c> is not installed, it
/// lacks the point-to-point calls (NCCL before 2.7), or there is no CUDA device. The message says which.
/// </summary>
public sealed class NcclUnavailableException : Exception
{
    internal NcclUnavailableException(string message)
        : base(message)
    {
    }
}
