using System;

namespace KernelDsl.Ring;

/// <summary>Where one rank's time went in one ring step.</summary>
/// <param name="Step">The step, 0 ≤ step &lt; P.</param>
/// <param name="SourceRank">The rank whose K/V shard was computed.</param>
/// <param name="Compute">Time in the block kernel (zero when no key of the shard was visible and the step was skipped).</param>
/// <param name="Communication">
/// Time blocked on communication: posting the exchange and waiting for it. With double buffering this is
/// only the part of the transfer that the compute did not hide.
/// </param>
public readonly record struct RingStepTiming(int Step, int SourceRank, TimeSpan Compute, TimeSpan Communication);
