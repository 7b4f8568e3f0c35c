using System;

namespace KernelDsl;

/// <summary>
/// Compute/communication overlap of a ring kernel: with 2 buffers the next K/V shard is received into
/// the spare buffer while the current one is computed (default); with 1 the ring computes, then
/// exchanges, with nothing overlapped.
/// </summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false, Inherited = false)]
public sealed class OverlapAttribute : Attribute
{
    /// <summary>K/V buffers per rank: 1 (no overlap) or 2 (double buffering).</summary>
    public int Buffers { get; set; } = 2;
}
