using System;
using System.Threading;

namespace KernelDsl.Cuda;

/// <summary>
/// A queue of work on one device (<see cref="CudaDevice.Default"/> unless named): launches and copies queued on one
/// stream run in order, work on different streams may overlap.
/// </summary>
/// <remarks>
/// The stream is a blocking one (<c>CU_STREAM_DEFAULT</c>): it waits for the legacy default
/// stream, so the plain <see cref="DeviceBuffer{T}.CopyTo(Span{T})"/> after a launch sees the
/// kernel's results without an explicit <see cref="Synchronize"/>. On <see cref="CudaDevice.Emulator"/> every
/// launch and copy has finished when its call returns, which is one order CUDA allows.
/// </remarks>
public sealed class CudaStream : IDisposable
{
    private readonly CudaDevice device;
    private readonly IntPtr handle;
    private int disposed;

    /// <summary>Creates a stream.</summary>
    /// <exception cref="CudaUnavailableException">There is no CUDA device.</exception>
    /// <exception cref="CudaException">The driver could not create the stream.</exception>
    public CudaStream()
        : this(CudaDevice.Default)
    {
    }

    /// <summary>Creates a stream on <paramref name="device"/>.</summary>
    /// <param name="device">The device, e.g. <see cref="CudaDevice.Emulator"/>.</param>
    /// <exception cref="CudaException">The driver could not create the stream.</exception>
    public CudaStream(CudaDevice device)
    {
        ArgumentNullException.ThrowIfNull(device);
        this.device = device;
        handle = device.Driver.CreateStream();
    }

    /// <summary>The device the stream queues work on.</summary>
    public CudaDevice Device => device;

    /// <summary>The driver's handle (a <c>CUstream</c> on a GPU).</summary>
    /// <exception cref="ObjectDisposedException">The stream was disposed.</exception>
    internal IntPtr Handle
    {
        get
        {
            ObjectDisposedException.ThrowIf(Volatile.Read(ref disposed) != 0, this);
            return handle;
        }
    }

    /// <summary>Waits until everything queued on the stream has finished.</summary>
    /// <exception cref="ObjectDisposedException">The stream was disposed.</exception>
    /// <exception cref="CudaException">Queued work failed (errors of asynchronous work surface here).</exception>
    public void Synchronize() => device.Driver.SynchronizeStream(Handle);

    /// <summary>Destroys the stream once its queued work is done; later calls do nothing.</summary>
    /// <exception cref="CudaException">The driver refused to destroy the stream.</exception>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref disposed, 1) != 0)
        {
            return;
        }

        device.Driver.DestroyStream(handle);
    }
}
