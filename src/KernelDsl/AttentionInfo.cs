using System;
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
    int SharedMemoryBytes)
{
    /// <summary>
    /// The CUDA backward pass (<c>CudaBackwardSource</c>, <c>LaunchBackwardStep</c>), or null where the kernel has none:
    /// F32 elements, or a head dimension whose dK and dV do not fit the step's registers.
    /// </summary>
    public AttentionBackwardInfo? Backward { get; init; }

    /// <summary>The CPU block kernel's blocking per instruction set, widest first (the runtime's, the same for every kernel).</summary>
    public IReadOnlyList<CpuAttentionBlocking> CpuBlocking => CpuRingAttention.Blocking;

    /// <summary>Query rows the CPU block kernel processes together on this machine (<see cref="CpuFeatures.Best"/>, the width it runs by default).</summary>
    public int CpuQRows => CpuBlockingFor(CpuFeatures.Best).QRows;

    /// <summary>Keys per inner step of the CPU block kernel on this machine (<see cref="CpuFeatures.Best"/>).</summary>
    public int CpuKvRows => CpuBlockingFor(CpuFeatures.Best).KvRows;

    /// <summary>The blocking the CPU block kernel uses for <paramref name="isa"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="isa"/> is not a defined <see cref="CpuIsa"/>.</exception>
    public CpuAttentionBlocking CpuBlockingFor(CpuIsa isa) => ICpuBlocking.For(CpuBlocking, isa);

    /// <summary>Threads per CUDA block.</summary>
    public int Threads => Warps * 32;

    /// <summary>The step kernel's grid for <paramref name="heads"/> heads of <paramref name="queries"/> local queries: x over Q tiles, y over heads.</summary>
    public (int X, int Y) GridFor(int queries, int heads) => ((queries + TileQ - 1) / TileQ, heads);

    /// <summary>
    /// The smallest number of tokens per rank for which a ring step's compute hides its K/V transfer
    /// (Ring Attention, Liu et al.: block ≥ FLOPs / bandwidth). Per step a rank attends its c queries to
    /// c keys, 4·c²·d FLOPs per head (half of it when causal: a balanced layout skips half the pairs), while
    /// sending K and V, 2·c·d·element bytes per KV head. Compute covers the transfer when
    /// 4·c²·d·heads / F ≥ 2·c·d·kvHeads·e / B (halving the left side if causal), i.e.
    /// c ≥ kvHeads·e·F / (2·heads·B), doubled if causal.
    /// </summary>
    /// <param name="linkBytesPerSecond">Bandwidth of the link to the next rank, e.g. 450e9 for NVLink 4 per direction, 25e9 for 200 Gb/s InfiniBand.</param>
    /// <param name="flopsPerSecond">Sustained attention throughput of one rank, e.g. 400e12 on an H100 in bf16.</param>
    /// <param name="heads">Query heads.</param>
    /// <param name="kvHeads">K/V heads (GQA sends fewer bytes).</param>
    /// <returns>Tokens per rank, rounded up.</returns>
    public long MinimumTokensPerRank(double linkBytesPerSecond, double flopsPerSecond, int heads = 1, int kvHeads = 1)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(linkBytesPerSecond);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(flopsPerSecond);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(heads);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(kvHeads);
        int elementBytes = Element == Element.F32 ? 4 : 2;
        double tokens = kvHeads * (double)elementBytes * flopsPerSecond / (2.0 * heads * linkBytesPerSecond);
        return (long)Math.Ceiling(Causal ? 2 * tokens : tokens);
    }

    /// <summary>One line for logs.</summary>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"{Name}: {Element} ring attention d={HeadDim}{(Causal ? " causal" : "")} {Layout}, scale {Scale:G6}, {Buffers} buffer(s); " +
        $"CUDA {StepEntryPoint}: Q tile {TileQ}, KV tile {TileKv}, {Warps} warps, {SharedMemoryBytes} B shared; CPU {CpuQRows}×{CpuKvRows} blocks ({CpuFeatures.Best})");
}
