namespace KernelDsl.GpuRunner;

/// <summary>One timed attention forward at heads × S × d.</summary>
internal sealed record AttentionTiming(
    string Kernel, int Heads, int Sequence, int HeadDim, bool Causal, TimingResult Timing, double Tflops, double SpotError, string? Failure);
