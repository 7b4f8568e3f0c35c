using KernelDsl.Cuda;

namespace KernelDsl.GpuRunner;

/// <summary>Events on a KernelDsl <see cref="CudaStream"/> (our kernels).</summary>
internal sealed class StreamTimer(CudaStream stream) : IGpuTimer
{
    private readonly CudaEvent start = new();
    private readonly CudaEvent end = new();

    public void Start() => start.Record(stream);

    public void Stop() => end.Record(stream);

    public double ElapsedMilliseconds() => CudaEvent.ElapsedMilliseconds(start, end);

    public void Dispose()
    {
        start.Dispose();
        end.Dispose();
    }
}
