namespace KernelDsl.Benchmarks;

/// <summary>
/// Quick or full: which cases the suites list (their <c>ParamsSource</c> reads <see cref="Quick"/>) and how many
/// iterations <see cref="BenchConfig"/> times. Set once by <see cref="Program"/> before any suite runs; the
/// suites run in this process (in-process toolchain), so they see it.
/// </summary>
public static class BenchMode
{
    /// <summary>True for the quick subset (a few minutes), false for the full run that writes docs/BENCHMARKS.md.</summary>
    public static bool Quick { get; set; }
}
