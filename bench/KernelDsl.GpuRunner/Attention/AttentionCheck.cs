namespace KernelDsl.GpuRunner;

/// <summary>One attention forward (one rank: init, one step, finalize) checked on the GPU against float64.</summary>
internal sealed record AttentionCheck(
    string Kernel, int Heads, int KvHeads, int Sequence, int Seed, double OutputError, double LseError, double Tolerance, long NaNs, string? Failure)
{
    /// <summary>The log-sum-exp is fp32 arithmetic on the rounded inputs: far tighter than the 16-bit output.</summary>
    public const double LseTolerance = 1e-3;

    public bool Passed => Failure is null && NaNs == 0 && OutputError <= Tolerance && LseError <= LseTolerance;
}
