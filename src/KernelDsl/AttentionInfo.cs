using System.Collections.Generic;
using System.Globalization;
using KernelDsl.Cpu;
using KernelDsl.Ring;

namespace KernelDsl;

/// <summary>
/// What the generator decided for one ring-attention kernel (its plan), readable at run time as
/// <c>MyKernel.Info</c>.
/// </summary>
/// <param name="Name">The kernel class's qualified name.</param>
/// <param name="StepEntryPoint">CUDA kernel of one ring step (attend one KV shard, merge into the running O and L).</param>
/// <param name="FinalizeEntryPoint">CUDA kernel writing O and L after the last step.</param>
/// <param name="HeadDim">Head dimension d.</param>
/// <param name="Element">Element type of Q, K, V and O.</param>
/// <param name="Causal">Causal masking by global position.</param>
/// <param name="Scale">Softmax scale.</param>
/// <param name="Layout">How the sequence is split over ranks.</param>
/// <param name="Buffers">K/V buffers per rank (2 overlaps the exchange with compute).</param>
/// <param name="TileQ">Query rows per CUDA block.</param>
/// <param name="TileKv">Keys per inner step.</param>
/// <param name="Warps">Warps per block (they split the query rows).</param>
/// <param name="SharedMemoryBytes">Dynamic shared memory of the step kernel.</param>
/// <param name="CpuQRows">Query rows the CPU block kernel processes together.</param>
/// <param name="CpuKvRows">Keys per inner step of the CPU block kernel.</param>
public sealed record AttentionInfo(
    string Name,
    string StepEntryPoint,
    string FinalizeEntryPoint,
    int HeadDim,
    Element Element,
    bool Causal,
    float Scale,
    RingLayout Layout,
    int Buffers,
    int TileQ,
    int TileKv,
    int Warps,
    int SharedMemoryBytes,
    int CpuQRows,
    int CpuKvRows)
{
    /// <summary>Threads per CUDA block.</summary>
    public int Threads => Warps * 32;

    /// <summary>The step kernel's grid for <paramref name="heads"/> heads of <paramref name="queries"/> local queries: x over Q tiles, y over heads.</summary>
    public (int X, int Y) GridFor(int queries, int heads) => ((queries + TileQ - 1) / TileQ, heads);

    /// <summary>One line for logs.</summary>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"{Name}: {Element} ring attention d={HeadDim}{(Causal ? " causal" : "")} {Layout}, scale {Scale:G6}, {Buffers} buffer(s); " +
        $"CUDA {StepEntryPoint}: Q tile {TileQ}, KV tile {TileKv}, {Warps} warps, {SharedMemoryBytes} B shared; CPU {CpuQRows}×{CpuKvRows} blocks");
}
