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
    private readonly CudaDevice device;
    private readonly IntPtr handle;
    private int disposed;

    /// <summary>Creates an event with timing enabled.</summary>
    /// <exception cref="CudaUnavailableException">There is no CUDA device.</exception>
    /// <exception cref="CudaException">The driver could not create the event.</exception>
    public CudaEvent()
        : this(CudaDevice.Default)
    {
    }

    /// <summary>Creates an event with timing enabled on <paramref name="device"/>.</summary>
    /// <param name="device">The device, e.g. <see cref="CudaDevice.Emulator"/> (where it times the host).</param>
    /// <exception cref="CudaException">The driver could not create the event.</exception>
    public CudaEvent(CudaDevice device)
    {
        ArgumentNullException.ThrowIfNull(device);
        this.device = device;
        handle = device.Driver.CreateEvent();
    }

    private IntPtr Handle
    {
        get
        {
            ObjectDisposedException.ThrowIf(Volatile.Read(ref disposed) != 0, this);
            return handle;
        }
    }

    /// <summary>Records the event after the work queued so far on <paramref name="stream"/>.</summary>
    /// <param name="stream">The stream to mark.</param>
    /// <exception cref="ObjectDisposedException">The event or the stream was disposed.</exception>
    public void Record(CudaStream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        device.Driver.RecordEvent(Handle, stream.Handle);
    }

    /// <summary>Waits until the work before the recorded point has finished.</summary>
    /// <exception cref="ObjectDisposedException">The event was disposed.</exception>
    public void Synchronize() => device.Driver.SynchronizeEvent(Handle);

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
        return start.device.Driver.ElapsedMilliseconds(start.Handle, end.Handle);
    }

    /// <summary>Destroys the event; later calls do nothing.</summary>
    /// <exception cref="CudaException">The driver refused to destroy the event.</exception>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref disposed, 1) != 0)
        {
            return;
        }

        device.Driver.DestroyEvent(handle);
    }
}
