using System;
using System.Runtime.InteropServices;

namespace KernelDsl.Cuda;

/// <summary>
/// The parameters of one kernel launch, in the order of the kernel's signature. A reusable
/// builder: <see cref="Clear"/> and add again for the next launch. Not thread-safe; use one
/// per thread. Only safe code is needed to fill it, so generated launch code stays safe.
/// </summary>
/// <remarks>
/// <c>cuLaunchKernel</c> takes a <c>void**</c>: one pointer per parameter, each pointing at the
/// parameter's value. Values live in 8-byte slots of an array on the pinned object heap, and a
/// second pinned array holds the slot addresses, so neither moves while the driver reads them.
/// A 4-byte value sits in the low half of its slot, which is where the driver reads it on the
/// little-endian hosts CUDA runs on.
/// The driver copies the values during the launch call, so the builder may be reused as soon as
/// <see cref="CudaFunction.Launch"/> returns.
/// </remarks>
public sealed class KernelArguments
{
    private const int InitialCapacity = 8;

    /// <summary>The most tensor maps one launch may take.</summary>
    public const int MaxTensorMaps = 8;

    private ulong[] values = GC.AllocateArray<ulong>(InitialCapacity, pinned: true);
    private IntPtr[] addresses = GC.AllocateArray<IntPtr>(InitialCapacity, pinned: true);

    // Tensor maps are 128 bytes aligned to 64: they live in their own pinned array, at a 64-byte aligned offset.
    private readonly byte[] maps = GC.AllocateArray<byte>(MaxTensorMaps * TensorMap.Bytes + TensorMap.Alignment, pinned: true);
    private readonly int[] mapSlots = new int[MaxTensorMaps];
    private int mapCount;

    /// <summary>Creates an empty argument list.</summary>
    public KernelArguments()
    {
        PointSlots();
    }

    /// <summary>Number of parameters added.</summary>
    public int Count { get; private set; }

    /// <summary>Adds a device pointer (<c>T*</c> in the kernel).</summary>
    /// <param name="devicePointer">A <c>CUdeviceptr</c>, e.g. <see cref="DeviceBuffer{T}.Pointer"/>.</param>
    /// <returns>This instance, to chain calls.</returns>
    public KernelArguments Add(ulong devicePointer) => Push(devicePointer);

    /// <summary>Adds a 32-bit integer (<c>int</c> in the kernel).</summary>
    /// <param name="value">The value.</param>
    /// <returns>This instance, to chain calls.</returns>
    public KernelArguments Add(int value) => Push((uint)value);

    /// <summary>Adds a 32-bit float (<c>float</c> in the kernel).</summary>
    /// <param name="value">The value.</param>
    /// <returns>This instance, to chain calls.</returns>
    public KernelArguments Add(float value) => Push(BitConverter.SingleToUInt32Bits(value));

    /// <summary>Adds a tensor map (<c>const __grid_constant__ tensor_map</c> in the kernel), by value.</summary>
    /// <param name="map">The map, from <see cref="TensorMap.Encode2D"/>.</param>
    /// <returns>This instance, to chain calls.</returns>
    /// <exception cref="InvalidOperationException">More than <see cref="MaxTensorMaps"/> maps in one launch.</exception>
    public unsafe KernelArguments Add(in TensorMap map)
    {
        if (mapCount == MaxTensorMaps)
        {
            throw new InvalidOperationException($"A launch takes at most {MaxTensorMaps} tensor maps.");
        }

        Push(0);
        IntPtr at = MapAddress(mapCount);
        fixed (TensorMap* source = &map)
        {
            System.Buffer.MemoryCopy(source, (void*)at, TensorMap.Bytes, TensorMap.Bytes);
        }

        mapSlots[mapCount++] = Count - 1;
        addresses[Count - 1] = at;
        return this;
    }

    /// <summary>Adds the device address of <paramref name="buffer"/> (<c>T*</c> in the kernel).</summary>
    /// <typeparam name="T">The buffer's element type.</typeparam>
    /// <param name="buffer">The buffer.</param>
    /// <returns>This instance, to chain calls.</returns>
    /// <exception cref="ObjectDisposedException"><paramref name="buffer"/> was disposed.</exception>
    public KernelArguments Add<T>(DeviceBuffer<T> buffer)
        where T : unmanaged
    {
        ArgumentNullException.ThrowIfNull(buffer);
        return Push(buffer.Pointer);
    }

    /// <summary>Removes every parameter, keeping the storage for reuse.</summary>
    /// <returns>This instance, to chain calls.</returns>
    public KernelArguments Clear()
    {
        Count = 0;
        mapCount = 0;
        PointSlots();
        return this;
    }

    /// <summary>The <c>void**</c> for <c>cuLaunchKernel</c>: <see cref="Count"/> addresses of values.</summary>
    /// <remarks>Valid until the next <c>Add</c> (which may move storage); keep this instance alive across the call.</remarks>
    internal IntPtr ParameterArray => Marshal.UnsafeAddrOfPinnedArrayElement(addresses, 0);

    private KernelArguments Push(ulong slot)
    {
        if (Count == values.Length)
        {
            ulong[] grown = GC.AllocateArray<ulong>(values.Length * 2, pinned: true);
            values.CopyTo(grown, 0);
            values = grown;
            addresses = GC.AllocateArray<IntPtr>(grown.Length, pinned: true);
            PointSlots();
        }

        values[Count++] = slot;
        return this;
    }

    private void PointSlots()
    {
        for (int i = 0; i < values.Length; i++)
        {
            addresses[i] = Marshal.UnsafeAddrOfPinnedArrayElement(values, i);
        }

        for (int m = 0; m < mapCount; m++)
        {
            addresses[mapSlots[m]] = MapAddress(m);
        }
    }

    private IntPtr MapAddress(int index)
    {
        IntPtr start = Marshal.UnsafeAddrOfPinnedArrayElement(maps, 0);
        long skip = (TensorMap.Alignment - (start.ToInt64() % TensorMap.Alignment)) % TensorMap.Alignment;
        return start + (int)skip + index * TensorMap.Bytes;
    }
}
