using System;

namespace KernelDsl;

/// <summary>
/// Software pipelining of the K loop: <see cref="Stages"/> shared-memory buffers, filled by
/// asynchronous copies (<c>cp.async</c>) up to <c>Stages − 1</c> tiles ahead of the one being
/// multiplied. 1 = no overlap, 2 = double buffering (default).
/// </summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false, Inherited = false)]
public sealed class PipelineAttribute : Attribute
{
    /// <summary>Number of shared-memory stages (≥ 1).</summary>
    public int Stages { get; set; } = 2;
}
