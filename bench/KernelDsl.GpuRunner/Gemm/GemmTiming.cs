namespace KernelDsl.GpuRunner;

/// <summary>One timed configuration: our kernel, its cuBLAS peer (same inputs, layout and output type), spot checks.</summary>
internal sealed record GemmTiming(
    string Kernel, string Input, string Output, string Layout, bool Epilogue, int Size,
    TimingResult Ours, double OursTflops, double OursSpotError, TimingResult? Peer, double? PeerTflops, double? PeerSpotError, string? Failure)
{
    /// <summary>ours / cuBLAS in throughput (higher is better).</summary>
    public double? Ratio => PeerTflops is { } peer && peer > 0 ? OursTflops / peer : null;
}
