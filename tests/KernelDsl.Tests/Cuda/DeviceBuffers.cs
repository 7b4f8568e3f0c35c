using KernelDsl.Cuda;

namespace KernelDsl.Tests.Cuda;

/// <summary>Device buffers filled from host arrays, for tests on a GPU or the emulator.</summary>
public static class DeviceBuffers
{
    public static DeviceBuffer<T> Upload<T>(CudaDevice device, T[] host)
        where T : unmanaged
    {
        var buffer = new DeviceBuffer<T>(host.Length, device);
        buffer.CopyFrom(host);
        return buffer;
    }
}
