using KernelDsl.Cuda;

namespace KernelDsl;

/// <summary>
/// The sm_90a kernel the generator printed beside a GEMM's sm_80 kernel (<see cref="GemmInfo.Sm90a"/>): launched instead
/// of it on compute capability 9.0 when NVRTC 12 or newer is there (and on the emulator, which follows sm_90's rules).
/// A block is <see cref="ConsumerWarpgroups"/> + 1 warpgroups (a TMA producer, wgmma consumers); the grid is persistent.
/// </summary>
/// <param name="EntryPoint">The <c>extern "C"</c> kernel in <c>CudaSourceSm90a</c>.</param>
/// <param name="TileM">Rows of C per tile.</param>
/// <param name="TileN">Columns of C per tile.</param>
/// <param name="TileK">K depth of one shared stage.</param>
/// <param name="Stages">Shared stages in the mbarrier ring.</param>
/// <param name="ConsumerWarpgroups">Warpgroups that multiply (1 or 2).</param>
/// <param name="BoxK">Elements of K per TMA box row (one swizzle span).</param>
/// <param name="SharedMemoryBytes">Dynamic shared memory per block: stages, mbarriers and alignment slack.</param>
public sealed record HopperGemmInfo(
    string EntryPoint,
    int TileM,
    int TileN,
    int TileK,
    int Stages,
    int ConsumerWarpgroups,
    int BoxK,
    int SharedMemoryBytes)
{
    /// <summary>Threads per block: the producer warpgroup and the consumers, 128 each.</summary>
    public int Threads => (ConsumerWarpgroups + 1) * 128;

    /// <summary>The swizzle of both tensor maps: a box row of BoxK 16-bit elements.</summary>
    public TensorMapSwizzle Swizzle => (TensorMapSwizzle)(BoxK * 2);

    /// <summary>Tiles of an m×n output, which the persistent blocks share out.</summary>
    public int TilesFor(int m, int n) => (m + TileM - 1) / TileM * ((n + TileN - 1) / TileN);
}
