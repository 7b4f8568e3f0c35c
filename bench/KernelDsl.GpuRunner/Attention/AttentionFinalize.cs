using KernelDsl.Cuda;

namespace KernelDsl.GpuRunner;

/// <summary>A generated ring-attention kernel's LaunchFinalize.</summary>
internal delegate void AttentionFinalize<T>(
    CudaStream stream, DeviceBuffer<float> oRun, DeviceBuffer<float> lRun, DeviceBuffer<T> o, DeviceBuffer<float> lse, int heads, int queries)
    where T : unmanaged;
