using System;

namespace KernelDsl;

/// <summary>
/// The block tile of a kernel. For a GEMM: an M×N tile of C per thread block, advancing K elements
/// along the reduction per pipeline stage (defaults 128, 128, 16). For ring attention: Q query rows
/// per thread block against KV keys per inner step (defaults 128, 64). Setting a kernel's properties
/// on the other kind is an error (KD0007).
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

    /// <summary>
    /// Attention: query rows per thread block. Left unset, the generator takes the largest of 128, 64, 32, 16 with
    /// which the kernel fits its registers and shared memory.
    /// </summary>
    public int Q { get; set; } = 128;

    /// <summary>
    /// Attention: keys (K/V rows) per inner step of the online softmax. Left unset, the largest of 64, 32, 16 that
    /// fits (with the query tile).
    /// </summary>
    public int KV { get; set; } = 64;
}
