using System;
using System.Runtime.CompilerServices;
using System.Threading;

namespace KernelDsl.Cuda;

/// <summary>
/// A typed array in one device's memory (<see cref="CudaDevice.Default"/> unless named). Dispose it: device
/// memory is not reclaimed by the garbage collector (a finalizer calling into the driver
/// while the process shuts down is a crash waiting to happen).
/// </summary>
/// <typeparam name="T">An unmanaged element type, e.g. <see cref="float"/> or <see cref="Half"/>.</typeparam>
public sealed class DeviceBuffer<T> : IDisposable
    where T : unmanaged
{
    // Null for an empty buffer, which never touches the driver (and so works without a GPU).
    private readonly CudaDevice? device;
    private readonly ulong pointer;
    private int disposed;

    /// <summary>Allocates <paramref name="length"/> uninitialised elements; 0 allocates nothing.</summary>
    /// <param name="length">Number of elements, at least 0.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="length"/> is negative.</exception>
    /// <exception cref="CudaUnavailableException">A non-empty buffer was asked for and there is no CUDA device.</exception>
    /// <exception cref="CudaException">The allocation failed, e.g. <c>CUDA_ERROR_OUT_OF_MEMORY</c>.</exception>
    public DeviceBuffer(int length)
        : this(length, null)
    {
    }

    /// <summary>Allocates <paramref name="length"/> uninitialised elements on <paramref name="device"/>; 0 allocates nothing.</summary>
    /// <param name="length">Number of elements, at least 0.</param>
    /// <param name="device">The device, e.g. <see cref="CudaDevice.Emulator"/>; null means <see cref="CudaDevice.Default"/>.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="length"/> is negative.</exception>
    /// <exception cref="CudaUnavailableException">A non-empty buffer was asked for on the default device and there is no CUDA device.</exception>
    /// <exception cref="CudaException">The allocation failed, e.g. <c>CUDA_ERROR_OUT_OF_MEMORY</c>.</exception>
    public DeviceBuffer(int length, CudaDevice? device)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        Length = length;
        this.device = device;
        if (length == 0)
        {
            return;
        }

        this.device ??= CudaDevice.Default;
        pointer = this.device.Driver.Allocate(Bytes);
    }

    /// <summary>The device the memory is on; null for an empty buffer created without naming one.</summary>
    public CudaDevice? Device => device;

    /// <summary>Number of elements.</summary>
    public int Length { get; }

    /// <summary>Size in bytes.</summary>
    public long SizeInBytes => (long)Length * Unsafe.SizeOf<T>();

    /// <summary>The device address (<c>CUdeviceptr</c>); 0 for an empty buffer.</summary>
    /// <exception cref="ObjectDisposedException">The buffer was disposed.</exception>
    public ulong Pointer
    {
        get
        {
            ThrowIfDisposed();
            return pointer;
        }
    }

    private nuint Bytes => (nuint)SizeInBytes;

    /// <summary>Copies <paramref name="source"/> to the device; returns when the copy is done.</summary>
    /// <param name="source">Exactly <see cref="Length"/> elements.</param>
    /// <exception cref="ArgumentException"><paramref name="source"/> has another length.</exception>
    /// <exception cref="ObjectDisposedException">The buffer was disposed.</exception>
    public unsafe void CopyFrom(ReadOnlySpan<T> source)
    {
        Prepare(source.Length, nameof(source));
        if (device is null || Length == 0)
        {
            return;
        }

        fixed (T* host = source)
        {
            device.Driver.CopyToDevice(pointer, host, Bytes, IntPtr.Zero);
        }
    }

    /// <summary>
    /// Copies <paramref name="source"/> to the device in <paramref name="stream"/>'s order (after
    /// the work already queued there) and waits for that stream only.
    /// </summary>
    /// <param name="source">Exactly <see cref="Length"/> elements.</param>
    /// <param name="stream">The stream to order the copy in.</param>
    /// <exception cref="ArgumentException"><paramref name="source"/> has another length.</exception>
    /// <exception cref="ObjectDisposedException">The buffer or the stream was disposed.</exception>
    public unsafe void CopyFrom(ReadOnlySpan<T> source, CudaStream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        Prepare(source.Length, nameof(source));
        if (device is null || Length == 0)
        {
            return;
        }

        // The span is pinned only while this method runs: the driver returns once the copy is done.
        fixed (T* host = source)
        {
            device.Driver.CopyToDevice(pointer, host, Bytes, stream.Handle);
        }
    }

    /// <summary>Copies the device contents to <paramref name="destination"/>; returns when the copy is done.</summary>
    /// <param name="destination">Exactly <see cref="Length"/> elements.</param>
    /// <exception cref="ArgumentException"><paramref name="destination"/> has another length.</exception>
    /// <exception cref="ObjectDisposedException">The buffer was disposed.</exception>
    /// <exception cref="CudaException">The copy, or a kernel before it, failed.</exception>
    public unsafe void CopyTo(Span<T> destination)
    {
        Prepare(destination.Length, nameof(destination));
        if (device is null || Length == 0)
        {
            return;
        }

        fixed (T* host = destination)
        {
            device.Driver.CopyToHost(host, pointer, Bytes, IntPtr.Zero);
        }
    }

    /// <summary>
    /// Copies the device contents to <paramref name="destination"/> after the work queued on
    /// <paramref name="stream"/> and waits for that stream only.
    /// </summary>
    /// <param name="destination">Exactly <see cref="Length"/> elements.</param>
    /// <param name="stream">The stream to order the copy in.</param>
    /// <exception cref="ArgumentException"><paramref name="destination"/> has another length.</exception>
    /// <exception cref="ObjectDisposedException">The buffer or the stream was disposed.</exception>
    /// <exception cref="CudaException">The copy, or a kernel before it, failed.</exception>
    public unsafe void CopyTo(Span<T> destination, CudaStream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        Prepare(destination.Length, nameof(destination));
        if (device is null || Length == 0)
        {
            return;
        }

        fixed (T* host = destination)
        {
            device.Driver.CopyToHost(host, pointer, Bytes, stream.Handle);
        }
    }

    /// <summary>
    /// Sets every element to <paramref name="value"/>, e.g. NaN to poison an output before a
    /// kernel so that an element it fails to write cannot pass a check.
    /// </summary>
    /// <param name="value">The element value, copied bit for bit.</param>
    /// <exception cref="NotSupportedException"><typeparamref name="T"/> is not 1, 2 or 4 bytes (the driver's memset widths).</exception>
    /// <exception cref="ObjectDisposedException">The buffer was disposed.</exception>
    public void Fill(T value)
    {
        ThrowIfDisposed();
        int size = Unsafe.SizeOf<T>();
        if (size is not (1 or 2 or 4))
        {
            throw new NotSupportedException(
                $"Fill sets 1-, 2- or 4-byte elements (cuMemsetD8/D16/D32); {typeof(T).Name} has {size} bytes.");
        }

        if (device is null || Length == 0)
        {
            return;
        }

        uint bits = size switch
        {
            1 => Unsafe.BitCast<T, byte>(value),
            2 => Unsafe.BitCast<T, ushort>(value),
            _ => Unsafe.BitCast<T, uint>(value),
        };
        device.Driver.Fill(pointer, size, bits, (nuint)Length);
    }

    /// <summary>Frees the device memory; later calls do nothing.</summary>
    /// <exception cref="CudaException">The driver refused to free (e.g. after a sticky kernel error).</exception>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref disposed, 1) != 0 || device is null || Length == 0)
        {
            return;
        }

        device.Driver.Free(pointer);
    }

    private void Prepare(int hostLength, string parameterName)
    {
        ThrowIfDisposed();
        if (hostLength != Length)
        {
            throw new ArgumentException(
                $"The buffer holds {Length} elements of {typeof(T).Name} but the span has {hostLength}.", parameterName);
        }
    }

    private void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(Volatile.Read(ref disposed) != 0, this);
}
