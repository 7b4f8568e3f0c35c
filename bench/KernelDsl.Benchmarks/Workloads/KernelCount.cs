namespace KernelDsl.Benchmarks;

/// <summary>A compilation holding <see cref="Kernels"/> annotated kernel classes (the generator-cost suite).</summary>
public sealed record KernelCount(int Kernels) : IWorkload
{
    /// <inheritdoc />
    public double Flops => 0;

    /// <inheritdoc />
    public double? Target(string ours, string peer) => null;

    /// <summary>By kernel count.</summary>
    public int CompareTo(object? other) => other is KernelCount count ? Kernels.CompareTo(count.Kernels) : 1;

    /// <inheritdoc />
    public override string ToString() => $"{Kernels} kernel{(Kernels == 1 ? "" : "s")}";
}
