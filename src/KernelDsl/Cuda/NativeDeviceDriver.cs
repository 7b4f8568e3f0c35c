using System;

namespace KernelDsl.Cuda;

/// <summary>
/// The CUDA driver API on one primary context. Contexts are per thread in the driver API and binding one is
/// cheap, so every call first makes the context current on the calling thread: objects work from any thread.
/// </summary>
internal sealed unsafe class NativeDeviceDriver(IntPtr context) : DeviceDriver
{
    public void MakeCurrent() => CudaDriver.Check(CudaDriver.cuCtxSetCurrent(context), nameof(CudaDriver.cuCtxSetCurrent));

    public override ulong Allocate(nuint bytes)
    {
        MakeCurrent();
        CudaDriver.Check(CudaDriver.cuMemAlloc_v2(out ulong pointer, bytes), nameof(CudaDriver.cuMemAlloc_v2));
        return pointer;
    }

    public override void Free(ulong pointer)
    {
        MakeCurrent();
        CudaDriver.Check(CudaDriver.cuMemFree_v2(pointer), nameof(CudaDriver.cuMemFree_v2));
    }

    public override void CopyToDevice(ulong destination, void* source, nuint bytes, IntPtr stream)
    {
        MakeCurrent();
        if (stream == IntPtr.Zero)
        {
            CudaDriver.Check(CudaDriver.cuMemcpyHtoD_v2(destination, source, bytes), nameof(CudaDriver.cuMemcpyHtoD_v2));
            return;
        }

        // The caller's span is pinned only while it waits here, so the copy must be finished before returning.
        CudaDriver.Check(CudaDriver.cuMemcpyHtoDAsync_v2(destination, source, bytes, stream), nameof(CudaDriver.cuMemcpyHtoDAsync_v2));
        SynchronizeStream(stream);
    }

    public override void CopyToHost(void* destination, ulong source, nuint bytes, IntPtr stream)
    {
        MakeCurrent();
        if (stream == IntPtr.Zero)
        {
            CudaDriver.Check(CudaDriver.cuMemcpyDtoH_v2(destination, source, bytes), nameof(CudaDriver.cuMemcpyDtoH_v2));
            return;
        }

        CudaDriver.Check(CudaDriver.cuMemcpyDtoHAsync_v2(destination, source, bytes, stream), nameof(CudaDriver.cuMemcpyDtoHAsync_v2));
        SynchronizeStream(stream);
    }

    public override void Fill(ulong destination, int elementBytes, uint value, nuint count)
    {
        MakeCurrent();
        switch (elementBytes)
        {
            case 1:
                CudaDriver.Check(CudaDriver.cuMemsetD8_v2(destination, (byte)value, count), nameof(CudaDriver.cuMemsetD8_v2));
                break;
            case 2:
                CudaDriver.Check(CudaDriver.cuMemsetD16_v2(destination, (ushort)value, count), nameof(CudaDriver.cuMemsetD16_v2));
                break;
            default:
                CudaDriver.Check(CudaDriver.cuMemsetD32_v2(destination, value, count), nameof(CudaDriver.cuMemsetD32_v2));
                break;
        }
    }

    public override void Synchronize()
    {
        MakeCurrent();
        CudaDriver.Check(CudaDriver.cuCtxSynchronize(), nameof(CudaDriver.cuCtxSynchronize));
    }

    public override IntPtr CreateStream()
    {
        MakeCurrent();

        // CU_STREAM_DEFAULT: a blocking stream, ordered with the legacy default stream (see CudaStream).
        CudaDriver.Check(CudaDriver.cuStreamCreate(out IntPtr stream, 0), nameof(CudaDriver.cuStreamCreate));
        return stream;
    }

    public override void SynchronizeStream(IntPtr stream)
    {
        MakeCurrent();
        CudaDriver.Check(CudaDriver.cuStreamSynchronize(stream), nameof(CudaDriver.cuStreamSynchronize));
    }

    public override void DestroyStream(IntPtr stream)
    {
        MakeCurrent();
        CudaDriver.Check(CudaDriver.cuStreamDestroy_v2(stream), nameof(CudaDriver.cuStreamDestroy_v2));
    }

    public override IntPtr CreateEvent()
    {
        MakeCurrent();

        // CU_EVENT_DEFAULT: timing enabled (CU_EVENT_DISABLE_TIMING would make elapsed time fail).
        CudaDriver.Check(CudaDriver.cuEventCreate(out IntPtr cudaEvent, 0), nameof(CudaDriver.cuEventCreate));
        return cudaEvent;
    }

    public override void RecordEvent(IntPtr cudaEvent, IntPtr stream)
    {
        MakeCurrent();
        CudaDriver.Check(CudaDriver.cuEventRecord(cudaEvent, stream), nameof(CudaDriver.cuEventRecord));
    }

    public override void SynchronizeEvent(IntPtr cudaEvent)
    {
        MakeCurrent();
        CudaDriver.Check(CudaDriver.cuEventSynchronize(cudaEvent), nameof(CudaDriver.cuEventSynchronize));
    }

    public override TensorMap EncodeTensorMap(
        ulong address, Element element, ulong width, ulong height, ulong rowStrideBytes, uint boxWidth, uint boxHeight, TensorMapSwizzle swizzle)
    {
        MakeCurrent();
        CudaDriver.TensorMapDataType type = element switch
        {
            Element.F16 => CudaDriver.TensorMapDataType.Float16,
            Element.BF16 => CudaDriver.TensorMapDataType.BFloat16,
            _ => CudaDriver.TensorMapDataType.Float32,
        };
        int swizzleCode = swizzle switch
        {
            TensorMapSwizzle.Bytes32 => 1,
            TensorMapSwizzle.Bytes64 => 2,
            TensorMapSwizzle.Bytes128 => 3,
            _ => 0,
        };
        TensorMap.Words bits = default;
        ulong* dims = stackalloc ulong[] { width, height };
        ulong* strides = stackalloc ulong[] { rowStrideBytes };
        uint* box = stackalloc uint[] { boxWidth, boxHeight };
        uint* elementStrides = stackalloc uint[] { 1, 1 };
        CudaDriver.Check(
            CudaDriver.cuTensorMapEncodeTiled(&bits, type, 2, address, dims, strides, box, elementStrides, 0, swizzleCode, 0, 0),
            nameof(CudaDriver.cuTensorMapEncodeTiled));
        return new TensorMap(bits);
    }

    public override float ElapsedMilliseconds(IntPtr start, IntPtr end)
    {
        MakeCurrent();
        CudaDriver.Check(CudaDriver.cuEventElapsedTime(out float milliseconds, start, end), nameof(CudaDriver.cuEventElapsedTime));
        return milliseconds;
    }

    public override void DestroyEvent(IntPtr cudaEvent)
    {
        MakeCurrent();
        CudaDriver.Check(CudaDriver.cuEventDestroy_v2(cudaEvent), nameof(CudaDriver.cuEventDestroy_v2));
    }

    public override IntPtr LoadModule(ReadOnlySpan<byte> image)
    {
        MakeCurrent();
        fixed (byte* data = image)
        {
            CudaDriver.Check(CudaDriver.cuModuleLoadData(out IntPtr module, data), nameof(CudaDriver.cuModuleLoadData));
            return module;
        }
    }

    public override void UnloadModule(IntPtr module)
    {
        MakeCurrent();
        CudaDriver.Check(CudaDriver.cuModuleUnload(module), nameof(CudaDriver.cuModuleUnload));
    }

    public override IntPtr GetFunction(IntPtr module, string name)
    {
        MakeCurrent();
        CudaDriver.Check(CudaDriver.cuModuleGetFunction(out IntPtr function, module, name), nameof(CudaDriver.cuModuleGetFunction));
        return function;
    }

    public override int GetAttribute(IntPtr function, CudaDriver.FunctionAttribute attribute)
    {
        MakeCurrent();
        CudaDriver.Check(CudaDriver.cuFuncGetAttribute(out int value, attribute, function), nameof(CudaDriver.cuFuncGetAttribute));
        return value;
    }

    public override void SetAttribute(IntPtr function, CudaDriver.FunctionAttribute attribute, int value)
    {
        MakeCurrent();
        CudaDriver.Check(CudaDriver.cuFuncSetAttribute(function, attribute, value), nameof(CudaDriver.cuFuncSetAttribute));
    }

    public override void Launch(
        IntPtr function, (int X, int Y, int Z) grid, (int X, int Y, int Z) block, int sharedBytes, IntPtr stream, IntPtr* parameters)
    {
        MakeCurrent();
        CudaDriver.Check(
            CudaDriver.cuLaunchKernel(
                function,
                (uint)grid.X, (uint)grid.Y, (uint)grid.Z,
                (uint)block.X, (uint)block.Y, (uint)block.Z,
                (uint)sharedBytes, stream, parameters, null),
            nameof(CudaDriver.cuLaunchKernel));
    }
}
