namespace KernelDsl.GpuRunner;

/// <summary>How long one launch takes: the statistics of many samples, each a run of back-to-back launches between two events.</summary>
/// <param name="MedianMs">Median per-launch time.</param>
/// <param name="MinMs">Fastest sample, per launch.</param>
/// <param name="MaxMs">Slowest sample, per launch.</param>
/// <param name="Q1Ms">First quartile.</param>
/// <param name="Q3Ms">Third quartile.</param>
/// <param name="Samples">Samples taken.</param>
/// <param name="LaunchesPerSample">Launches between the two events of one sample.</param>
internal sealed record TimingResult(double MedianMs, double MinMs, double MaxMs, double Q1Ms, double Q3Ms, int Samples, int LaunchesPerSample)
{
    /// <summary>(Q3 − Q1) / median: the spread the figure is quoted with.</summary>
    public double RelativeSpread => MedianMs > 0 ? (Q3Ms - Q1Ms) / MedianMs : double.NaN;
}
