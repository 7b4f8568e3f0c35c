using System;
using System.Threading;

namespace KernelDsl.Cuda;

/// <summary>
/// A queue of device work on <see cref="CudaDevice.Default"/>: launches and copies queued on one
/// stream run in order, work on different streams may overlap.
/// </summary>
/// <remarks>
/// The stream is a blocking one (<c>CU_STREAM_DEFAULT</c>): it waits for the legacy default
/// stream, so the plain <see cref="DeviceBuffer{T}.CopyTo(Span{T})"/> after a launch sees the
/// kernel's results without an explicit <see cref="Synchronize"/>.
/// </remarks>
public sealed class CudaStream : IDisposable
{
    private const uint DefaultFlags = 0;

    private readonly CudaDevice device;
    private readonly IntPtr handle;
    private int disposed;

    /// <summary>Creates a stream.</summary>
    /// <exception cref="CudaUnavailableException">There is no CUDA device.</exception>
    /// <exception cref="CudaException">The driver could not create the stream.</exception>
    public CudaStream()
    {
        device = CudaDevice.Default;
        device.MakeCurrent();
        CudaDriver.Check(CudaDriver.cuStreamCreate(out handle, DefaultFlags), nameof(CudaDriver.cuStreamCreate));
    }

    /// <summary>The <c>CUstream</c>, with the context made current for the caller's next driver call.</summary>
    /// <exception cref="ObjectDisposedException">The stream was disposed.</exception>
    internal IntPtr Handle
    {
        get
        {
            ObjectDisposedException.ThrowIf(Volatile.Read(ref disposed) != 0, this);
            device.MakeCurrent();
            return handle;
        }
    }

    /// <summary>Waits until everything queued on the stream has finished.</summary>
    /// <exception cref="ObjectDisposedException">The stream was disposed.</exception>
    /// <exception cref="CudaException">Queued work failed (errors of asynchronous work surface here).</exception>
    public void Synchronize() => CudaDriver.Check(CudaDriver.cuStreamSynchronize(Handle), nameof(CudaDriver.cuStreamSynchronize));

    /// <summary>Destroys the stream once its queued work is done; later calls do nothing.</summary>
    /// <exception cref="CudaException">The driver refused to destroy the stream.</exception>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref disposed, 1) != 0)
        {
            return;
        }

        device.MakeCurrent();
        CudaDriver.Check(CudaDriver.cuStreamDestroy_v2(handle), nameof(CudaDriver.cuStreamDestroy_v2));
    }
}
