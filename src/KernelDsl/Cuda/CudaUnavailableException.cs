using System;

namespace KernelDsl.Cuda;

/// <summary>
/// Thrown when CUDA is needed but cannot be used here: the driver library is missing, it fails
/// to initialise, or it sees no device. <see cref="CudaDevice.IsAvailable"/> asks without throwing.
/// </summary>
public sealed class CudaUnavailableException : Exception
{
    internal CudaUnavailableException(string message)
        : base(message)
    {
    }
}
