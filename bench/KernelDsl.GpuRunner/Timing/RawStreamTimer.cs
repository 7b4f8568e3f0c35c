using System;

namespace KernelDsl.GpuRunner;

/// <summary>Events on a raw driver stream (cuBLAS).</summary>
internal sealed class RawStreamTimer : IGpuTimer
{
    private readonly DriverEvents driver;
    private readonly IntPtr stream;
    private readonly IntPtr start;
    private readonly IntPtr end;

    public RawStreamTimer(DriverEvents driver, IntPtr stream)
    {
        this.driver = driver;
        this.stream = stream;
        start = driver.CreateEvent();
        end = driver.CreateEvent();
    }

    public void Start() => driver.Record(start, stream);

    public void Stop() => driver.Record(end, stream);

    public double ElapsedMilliseconds() => driver.ElapsedMilliseconds(start, end);

    public void Dispose()
    {
        driver.DestroyEvent(start);
        driver.DestroyEvent(end);
    }
}
