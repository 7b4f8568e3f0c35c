namespace KernelDsl.GpuRunner;

/// <summary>One timed attention pass (forward, or the backward step) at heads × S × d.</summary>
internal sealed record AttentionTiming(
    string Kernel, int Heads, int Sequence, int HeadDim, bool Causal, TimingResult Timing, double Tflops, double SpotError, string? Failure, bool Backward = false);
