namespace KernelDsl.GpuRunner;

/// <summary>One GEMM checked on the GPU against float64 (every element).</summary>
internal sealed record GemmCheck(
    string Kernel, int M, int N, int K, int Lda, int Ldb, int Seed, double Error, double Tolerance, long NaNs, string? Failure)
{
    public bool Passed => Failure is null && NaNs == 0 && Error <= Tolerance;
}
