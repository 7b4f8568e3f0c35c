using System;

namespace KernelDsl.Cuda;

/// <summary>
/// What <see cref="CudaDevice"/>, <see cref="DeviceBuffer{T}"/>, <see cref="CudaStream"/>, <see cref="CudaEvent"/>,
/// <see cref="CudaModule"/> and <see cref="CudaFunction"/> ask of the machine underneath: the CUDA driver
/// (<see cref="NativeDeviceDriver"/>) or the CPU emulator (<see cref="Emulation.EmulatedDeviceDriver"/>). Everything above
/// this seam (argument checks, launch limits, generated launch code) is the same code on both. Handles are opaque;
/// failures throw <see cref="CudaException"/> as the driver's would.
/// </summary>
internal abstract unsafe class DeviceDriver
{
    public abstract ulong Allocate(nuint bytes);

    public abstract void Free(ulong pointer);

    /// <summary>Copies host → device; with a stream, in its order, returning once the copy is done.</summary>
    public abstract void CopyToDevice(ulong destination, void* source, nuint bytes, IntPtr stream);

    /// <summary>Copies device → host; with a stream, in its order, returning once the copy is done.</summary>
    public abstract void CopyToHost(void* destination, ulong source, nuint bytes, IntPtr stream);

    /// <summary>Sets <paramref name="count"/> elements of 1, 2 or 4 bytes to the low bytes of <paramref name="value"/>.</summary>
    public abstract void Fill(ulong destination, int elementBytes, uint value, nuint count);

    public abstract void Synchronize();

    public abstract IntPtr CreateStream();

    public abstract void SynchronizeStream(IntPtr stream);

    public abstract void DestroyStream(IntPtr stream);

    public abstract IntPtr CreateEvent();

    public abstract void RecordEvent(IntPtr cudaEvent, IntPtr stream);

    public abstract void SynchronizeEvent(IntPtr cudaEvent);

    public abstract float ElapsedMilliseconds(IntPtr start, IntPtr end);

    public abstract void DestroyEvent(IntPtr cudaEvent);

    /// <summary>Loads a CUBIN or NUL-terminated PTX (the CUDA driver), or a compiled emulated kernel library (the emulator).</summary>
    public abstract IntPtr LoadModule(ReadOnlySpan<byte> image);

    public abstract void UnloadModule(IntPtr module);

    public abstract IntPtr GetFunction(IntPtr module, string name);

    public abstract int GetAttribute(IntPtr function, CudaDriver.FunctionAttribute attribute);

    public abstract void SetAttribute(IntPtr function, CudaDriver.FunctionAttribute attribute, int value);

    /// <summary>A 2-D tiled TMA map, arguments already checked by <see cref="TensorMap.Encode2D"/>.</summary>
    public abstract TensorMap EncodeTensorMap(
        ulong address, Element element, ulong width, ulong height, ulong rowStrideBytes, uint boxWidth, uint boxHeight, TensorMapSwizzle swizzle);

    /// <summary>Queues (the CUDA driver) or runs to completion (the emulator) one launch; <paramref name="parameters"/> is cuLaunchKernel's void**.</summary>
    public abstract void Launch(
        IntPtr function, (int X, int Y, int Z) grid, (int X, int Y, int Z) block, int sharedBytes, IntPtr stream, IntPtr* parameters);
}
