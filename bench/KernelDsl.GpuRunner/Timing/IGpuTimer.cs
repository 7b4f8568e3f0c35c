using System;

namespace KernelDsl.GpuRunner;

/// <summary>Device-side timers: events recorded around a stretch of queued work.</summary>
internal interface IGpuTimer : IDisposable
{
    void Start();

    void Stop();

    /// <summary>Milliseconds between the last Start and Stop; waits for the Stop event.</summary>
    double ElapsedMilliseconds();
}
