namespace KernelDsl.Benchmarks;

/// <summary>C (M×N) = A (M×K) · B (K×N), row-major.</summary>
public sealed record GemmShape(int M, int N, int K) : IWorkload
{
    /// <summary>M = N = K = <paramref name="n"/>.</summary>
    public static GemmShape Square(int n) => new(n, n, n);

    private bool IsSquare => M == N && N == K;

    /// <inheritdoc />
    public double Flops => 2.0 * M * N * K;

    /// <summary>Against OpenBLAS: 0.9 for square n ≥ 1024, 0.8 below and for skinny shapes.</summary>
    public double? Target(string ours, string peer) => IsSquare && M >= 1024 ? 0.9 : 0.8;

    /// <summary>Square shapes by size, then the skinny ones.</summary>
    public int CompareTo(object? other) => other is GemmShape shape
        ? (IsSquare ? 0 : 1, M, N).CompareTo((shape.IsSquare ? 0 : 1, shape.M, shape.N))
        : 1;

    /// <inheritdoc />
    public override string ToString() => IsSquare ? $"{M}³" : $"{M}×{N}×{K}";
}
