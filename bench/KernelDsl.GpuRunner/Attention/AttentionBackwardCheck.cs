namespace KernelDsl.GpuRunner;

/// <summary>
/// One attention backward (one rank: forward, delta, one backward step, the gradients written in the element type)
/// checked on the GPU: every element of dQ, dK and dV against float64 gradients, relative Frobenius errors.
/// </summary>
internal sealed record AttentionBackwardCheck(
    string Kernel, int Heads, int KvHeads, int Sequence, int Seed, double DqError, double DkError, double DvError, double Tolerance, long NaNs, string? Failure)
{
    public bool Passed => Failure is null && NaNs == 0 && DqError <= Tolerance && DkError <= Tolerance && DvError <= Tolerance;
}
