using System;
using System.Collections.Generic;
using System.Globalization;
using KernelDsl.Cpu;

namespace KernelDsl;

/// <summary>
/// What the generator decided for one GEMM kernel (its plan), readable at run time as
/// <c>MyKernel.Info</c>.
/// </summary>
/// <param name="Name">The kernel class's qualified name.</param>
/// <param name="EntryPoint">The CUDA <c>extern "C"</c> function in <c>CudaSource</c>.</param>
/// <param name="Element">Element type of A and B.</param>
/// <param name="Output">Element type of C.</param>
/// <param name="TransposeA">A is stored K×M.</param>
/// <param name="TransposeB">B is stored N×K.</param>
/// <param name="Bias">The epilogue adds a per-column bias.</param>
/// <param name="Activation">The epilogue's activation.</param>
/// <param name="TileM">Rows of C per CUDA thread block.</param>
/// <param name="TileN">Columns of C per CUDA thread block.</param>
/// <param name="TileK">K depth of one pipeline stage.</param>
/// <param name="WarpsM">Warps along M.</param>
/// <param name="WarpsN">Warps along N.</param>
/// <param name="ThreadTileM">Accumulator rows per thread.</param>
/// <param name="ThreadTileN">Accumulator columns per thread.</param>
/// <param name="Stages">Shared-memory pipeline stages.</param>
/// <param name="SharedMemoryBytes">Dynamic shared memory per block, all stages.</param>
/// <param name="ArithmeticIntensity">FLOPs per byte of A and B a block loads from global memory: 2·TileM·TileN / ((TileM + TileN)·element bytes).</param>
public sealed record GemmInfo(
    string Name,
    string EntryPoint,
    Element Element,
    Element Output,
    bool TransposeA,
    bool TransposeB,
    bool Bias,
    Activation Activation,
    int TileM,
    int TileN,
    int TileK,
    int WarpsM,
    int WarpsN,
    int ThreadTileM,
    int ThreadTileN,
    int Stages,
    int SharedMemoryBytes,
    double ArithmeticIntensity)
{
    /// <summary>
    /// The CPU fallback's blocking per instruction set on this machine, widest first: the runtime sizes it for the
    /// caches it finds (<see cref="CpuCaches.ThisMachine"/>), the same for every GEMM kernel.
    /// </summary>
    public IReadOnlyList<CpuBlocking> CpuBlocking => Cpu.CpuGemm.Blocking;

    /// <summary>
    /// The sm_90a kernel launched instead of <see cref="EntryPoint"/> on compute capability 9.0, or null when the layout or
    /// tile has none (it needs A stored M×K and B stored N×K in 16-bit elements, TileM a multiple of 64 and TileN of 8).
    /// </summary>
    public HopperGemmInfo? Sm90a { get; init; }

    /// <summary>Threads per CUDA block (32 per warp).</summary>
    public int Threads => WarpsM * WarpsN * 32;

    /// <summary>The CUDA grid for an m×n output: one block per tile of C, x along N and y along M.</summary>
    public (int X, int Y) GridFor(int m, int n)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(m);
        ArgumentOutOfRangeException.ThrowIfNegative(n);
        return ((n + TileN - 1) / TileN, (m + TileM - 1) / TileM);
    }

    /// <summary>The blocking the CPU fallback uses for <paramref name="isa"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="isa"/> is not a defined <see cref="CpuIsa"/>.</exception>
    public CpuBlocking CpuBlockingFor(CpuIsa isa) => ICpuBlocking.For(CpuBlocking, isa);

    /// <summary>A one-paragraph summary, e.g. for logs.</summary>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"{Name}: {Element} GEMM{(TransposeA ? " Aᵀ" : "")}{(TransposeB ? " Bᵀ" : "")}{(Bias ? " +bias" : "")}{(Activation != Activation.None ? " " + Activation : "")}; " +
        $"CUDA {EntryPoint}: tile {TileM}×{TileN}×{TileK}, {WarpsM}×{WarpsN} warps ({Threads} threads), {ThreadTileM}×{ThreadTileN} per thread, " +
        $"{Stages} stages, {SharedMemoryBytes} B shared, {ArithmeticIntensity:0.#} FLOP/B; " +
        $"CPU {CpuBlockingFor(CpuFeatures.Best)} for {CpuCaches.ThisMachine}");
}
