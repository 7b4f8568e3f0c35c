using System;
using System.Globalization;

namespace KernelDsl.GpuRunner;

/// <summary>
/// The few CUDA driver calls the runner needs beyond KernelDsl's public API: a raw stream and events on it, for
/// cuBLAS (which takes a <c>cudaStream_t</c>, while <see cref="KernelDsl.Cuda.CudaStream"/> keeps its handle internal).
/// The calls use the context current on the calling thread: the primary context KernelDsl made current, since every
/// call happens on the main thread after <see cref="KernelDsl.Cuda.CudaDevice.Default"/> was touched.
/// </summary>
internal sealed unsafe class DriverEvents
{
    private readonly delegate* unmanaged<IntPtr*, uint, int> streamCreate;
    private readonly delegate* unmanaged<IntPtr, int> streamDestroy;
    private readonly delegate* unmanaged<IntPtr, int> streamSynchronize;
    private readonly delegate* unmanaged<IntPtr*, uint, int> eventCreate;
    private readonly delegate* unmanaged<IntPtr, IntPtr, int> eventRecord;
    private readonly delegate* unmanaged<IntPtr, int> eventSynchronize;
    private readonly delegate* unmanaged<float*, IntPtr, IntPtr, int> eventElapsed;
    private readonly delegate* unmanaged<IntPtr, int> eventDestroy;

    private DriverEvents(NativeLibraries cuda)
    {
        streamCreate = (delegate* unmanaged<IntPtr*, uint, int>)cuda.Export("cuStreamCreate");
        streamDestroy = (delegate* unmanaged<IntPtr, int>)cuda.Export("cuStreamDestroy_v2");
        streamSynchronize = (delegate* unmanaged<IntPtr, int>)cuda.Export("cuStreamSynchronize");
        eventCreate = (delegate* unmanaged<IntPtr*, uint, int>)cuda.Export("cuEventCreate");
        eventRecord = (delegate* unmanaged<IntPtr, IntPtr, int>)cuda.Export("cuEventRecord");
        eventSynchronize = (delegate* unmanaged<IntPtr, int>)cuda.Export("cuEventSynchronize");
        // The same call as KernelDsl's CudaEvent binds; CUDA 12.8 added a _v2 that cuda.h maps to from CUDA 13 on.
        eventElapsed = (delegate* unmanaged<float*, IntPtr, IntPtr, int>)cuda.Export("cuEventElapsedTime", "cuEventElapsedTime_v2");
        eventDestroy = (delegate* unmanaged<IntPtr, int>)cuda.Export("cuEventDestroy_v2");
    }

    /// <summary>Binds to <c>libcuda.so.1</c>.</summary>
    /// <exception cref="InvalidOperationException">The driver library does not load.</exception>
    public static DriverEvents Open()
    {
        var cuda = NativeLibraries.TryOpen(["libcuda.so.1", "libcuda.so"], out string tried)
            ?? throw new InvalidOperationException($"libcuda could not be loaded (tried {tried}).");
        return new DriverEvents(cuda);
    }

    public IntPtr CreateStream()
    {
        IntPtr stream;
        Check(streamCreate(&stream, 0), "cuStreamCreate");
        return stream;
    }

    public void DestroyStream(IntPtr stream) => Check(streamDestroy(stream), "cuStreamDestroy_v2");

    public void SynchronizeStream(IntPtr stream) => Check(streamSynchronize(stream), "cuStreamSynchronize");

    public IntPtr CreateEvent()
    {
        IntPtr handle;
        Check(eventCreate(&handle, 0), "cuEventCreate");
        return handle;
    }

    public void Record(IntPtr handle, IntPtr stream) => Check(eventRecord(handle, stream), "cuEventRecord");

    public float ElapsedMilliseconds(IntPtr start, IntPtr end)
    {
        Check(eventSynchronize(end), "cuEventSynchronize");
        float milliseconds;
        Check(eventElapsed(&milliseconds, start, end), "cuEventElapsedTime");
        return milliseconds;
    }

    public void DestroyEvent(IntPtr handle) => Check(eventDestroy(handle), "cuEventDestroy_v2");

    private static void Check(int result, string call)
    {
        if (result != 0)
        {
            throw new InvalidOperationException(string.Create(CultureInfo.InvariantCulture, $"{call} failed: CUresult {result}."));
        }
    }
}
