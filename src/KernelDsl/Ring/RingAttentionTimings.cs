using System;
using System.Collections.Generic;
using System.Globalization;

namespace KernelDsl.Ring;

/// <summary>
/// One rank's timing of a <see cref="RingAttentionDriver.Forward"/> call, split into compute and time
/// blocked on communication, per step. Overlap shows as <see cref="Communication"/> ≪ the transfer
/// time, and <see cref="Total"/> ≈ <see cref="Compute"/> rather than compute + transfer.
/// </summary>
public sealed class RingAttentionTimings
{
    internal RingAttentionTimings(RingStepTiming[] steps, TimeSpan total, TimeSpan handshake)
    {
        Steps = Array.AsReadOnly(steps);
        Total = total;
        Handshake = handshake;
        foreach (var step in steps)
        {
            Compute += step.Compute;
            Communication += step.Communication;
        }
    }

    /// <summary>The steps in order.</summary>
    public IReadOnlyList<RingStepTiming> Steps { get; }

    /// <summary>Wall time of the call after the <see cref="Handshake"/>: packing, the steps and finalising.</summary>
    public TimeSpan Total { get; }

    /// <summary>
    /// Time of the description handshake that precedes the steps (one small exchange with the neighbours, see
    /// <see cref="RingConfigurationException"/>); apart from <see cref="Total"/>, which it would otherwise
    /// charge with a link latency that says nothing about how the schedule overlaps.
    /// </summary>
    public TimeSpan Handshake { get; }

    /// <summary>Sum of the steps' compute.</summary>
    public TimeSpan Compute { get; }

    /// <summary>Sum of the steps' time blocked on communication.</summary>
    public TimeSpan Communication { get; }

    /// <inheritdoc/>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"total {Total.TotalMilliseconds:F2} ms: compute {Compute.TotalMilliseconds:F2} ms, communication {Communication.TotalMilliseconds:F2} ms over {Steps.Count} steps, handshake {Handshake.TotalMilliseconds:F2} ms");
}
