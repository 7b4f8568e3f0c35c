using KernelDsl.Ring;

namespace KernelDsl.Tests.Ring;

/// <summary>The outcome of a <see cref="RingCase"/>: relative Frobenius errors of O and L against float64, and each rank's timings.</summary>
internal sealed record RingResult(double ErrorO, double ErrorLse, RingAttentionTimings[] Timings);
