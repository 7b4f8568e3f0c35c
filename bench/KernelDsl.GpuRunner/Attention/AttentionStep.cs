using KernelDsl.Cuda;
using KernelDsl.Ring;

namespace KernelDsl.GpuRunner;

/// <summary>A generated ring-attention kernel's LaunchStep.</summary>
internal delegate void AttentionStep<T>(
    CudaStream stream, DeviceBuffer<T> q, DeviceBuffer<T> k, DeviceBuffer<T> v, DeviceBuffer<float> oRun, DeviceBuffer<float> lRun,
    int heads, int kvHeads, int queries, int keys, SequenceShard queryShard, SequenceShard keyShard)
    where T : unmanaged;
