using KernelDsl.Cuda;

namespace KernelDsl.GpuRunner;

/// <summary>A host array and its device copy.</summary>
internal readonly record struct Operand<T>(T[] Host, DeviceBuffer<T> Device)
    where T : unmanaged;
