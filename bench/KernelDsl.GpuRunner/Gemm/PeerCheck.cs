namespace KernelDsl.GpuRunner;

/// <summary>cuBLAS and our kernel on one small product, both against float64: proves the row-/column-major mapping.</summary>
internal sealed record PeerCheck(
    string Kernel, string Layout, int M, int N, int K, int Seed, double CublasError, double OursError, double Tolerance, string? Failure)
{
    public bool Passed => Failure is null && CublasError <= Tolerance && OursError <= Tolerance;
}
