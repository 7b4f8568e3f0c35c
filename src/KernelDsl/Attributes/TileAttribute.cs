using System;

namespace KernelDsl;

/// <summary>
/// The block tile one CUDA thread block computes per iteration: an M×N tile of C, advancing
/// K elements along the reduction per pipeline stage. Defaults: M = 128, N = 128, K = 16.
/// </summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false, Inherited = false)]
public sealed class TileAttribute : Attribute
{
    /// <summary>Rows of C per thread block.</summary>
    public int M { get; set; } = 128;

    /// <summary>Columns of C per thread block.</summary>
    public int N { get; set; } = 128;

    /// <summary>Reduction depth per stage (elements of K loaded into shared memory at once).</summary>
    public int K { get; set; } = 16;
}
