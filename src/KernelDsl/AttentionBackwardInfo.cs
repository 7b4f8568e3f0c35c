namespace KernelDsl;

/// <summary>
/// The CUDA backward pass the generator printed for a ring-attention kernel (<see cref="AttentionInfo.Backward"/>,
/// <c>CudaBackwardSource</c>): a block owns <see cref="TileKv"/> keys of one K/V head, split over its <see cref="Warps"/>
/// warps, and walks the query tiles of <see cref="TileQ"/> rows.
/// </summary>
/// <param name="StepEntryPoint">The backward step kernel (adds into fp32 dQ, dK, dV).</param>
/// <param name="DeltaEntryPoint">The kernel of D = rowsum(dO ∘ O).</param>
/// <param name="GradientEntryPoint">The kernel writing an fp32 gradient in the element type.</param>
/// <param name="TileQ">Query rows per tile.</param>
/// <param name="TileKv">Keys per block.</param>
/// <param name="Warps">Warps per block.</param>
/// <param name="SharedMemoryBytes">Dynamic shared memory of the step kernel.</param>
public sealed record AttentionBackwardInfo(
    string StepEntryPoint,
    string DeltaEntryPoint,
    string GradientEntryPoint,
    int TileQ,
    int TileKv,
    int Warps,
    int SharedMemoryBytes)
{
    /// <summary>Threads per block of the step kernel.</summary>
    public int Threads => Warps * 32;

    /// <summary>The step kernel's grid for <paramref name="keys"/> local keys of <paramref name="kvHeads"/> K/V heads: x over key blocks, y over K/V heads.</summary>
    public (int X, int Y) GridFor(int keys, int kvHeads) => ((keys + TileKv - 1) / TileKv, kvHeads);
}
