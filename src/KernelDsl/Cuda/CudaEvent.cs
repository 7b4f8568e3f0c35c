using System;
using System.Threading;

namespace KernelDsl.Cuda;

/// <summary>
/// A marker recorded into a <see cref="CudaStream"/>, used to time device work:
/// record a start and an end event around launches, then read
/// <see cref="ElapsedMilliseconds"/>.
/// </summary>
public sealed class CudaEvent : IDisposable
{
    // CU_EVENT_DEFAULT: timing enabled (CU_EVENT_DISABLE_TIMING would make elapsed time fail).
    private const uint DefaultFlags = 0;

    private readonly CudaDevice device;
    private readonly IntPtr handle;
    private int disposed;

    /// <summary>Creates an event with timing enabled.</summary>
    /// <exception cref="CudaUnavailableException">There is no CUDA device.</exception>
    /// <exception cref="CudaException">The driver could not create the event.</exception>
    public CudaEvent()
    {
        device = CudaDevice.Default;
        device.MakeCurrent();
        CudaDriver.Check(CudaDriver.cuEventCreate(out handle, DefaultFlags), nameof(CudaDriver.cuEventCreate));
    }

    private IntPtr Handle
    {
        get
        {
            ObjectDisposedException.ThrowIf(Volatile.Read(ref disposed) != 0, this);
            device.MakeCurrent();
            return handle;
        }
    }

    /// <summary>Records the event after the work queued so far on <paramref name="stream"/>.</summary>
    /// <param name="stream">The stream to mark.</param>
    /// <exception cref="ObjectDisposedException">The event or the stream was disposed.</exception>
    public void Record(CudaStream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        IntPtr recorded = Handle;
        CudaDriver.Check(CudaDriver.cuEventRecord(recorded, stream.Handle), nameof(CudaDriver.cuEventRecord));
    }

    /// <summary>Waits until the work before the recorded point has finished.</summary>
    /// <exception cref="ObjectDisposedException">The event was disposed.</exception>
    public void Synchronize() => CudaDriver.Check(CudaDriver.cuEventSynchronize(Handle), nameof(CudaDriver.cuEventSynchronize));

    /// <summary>
    /// Milliseconds between two recorded events (resolution about half a microsecond); waits
    /// for <paramref name="end"/> first.
    /// </summary>
    /// <param name="start">The earlier event.</param>
    /// <param name="end">The later event.</param>
    /// <exception cref="ObjectDisposedException">An event was disposed.</exception>
    /// <exception cref="CudaException">An event was never recorded (<c>CUDA_ERROR_INVALID_HANDLE</c>).</exception>
    public static float ElapsedMilliseconds(CudaEvent start, CudaEvent end)
    {
        ArgumentNullException.ThrowIfNull(start);
        ArgumentNullException.ThrowIfNull(end);
        end.Synchronize();
        CudaDriver.Check(
            CudaDriver.cuEventElapsedTime(out float milliseconds, start.Handle, end.Handle), nameof(CudaDriver.cuEventElapsedTime));
        return milliseconds;
    }

    /// <summary>Destroys the event; later calls do nothing.</summary>
    /// <exception cref="CudaException">The driver refused to destroy the event.</exception>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref disposed, 1) != 0)
        {
            return;
        }

        device.MakeCurrent();
        CudaDriver.Check(CudaDriver.cuEventDestroy_v2(handle), nameof(CudaDriver.cuEventDestroy_v2));
    }
}
