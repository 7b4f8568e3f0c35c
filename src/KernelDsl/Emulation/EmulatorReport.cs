using System;

namespace KernelDsl.Emulation;

/// <summary>
/// What one emulated launch did: counts of each intrinsic, and how well its memory accesses would use the hardware.
/// Shared memory is served in wavefronts (one per 128 bytes of distinct banks); a request whose lanes hit one bank at
/// different addresses needs more, so <see cref="SharedConflictFactor"/> is 1 for a conflict-free kernel and 2 for a
/// 2-way conflict. Global memory moves 32-byte sectors; <see cref="GlobalLoadSectorsPerIdeal"/> is 1 when every warp-wide
/// load touches no more sectors than its bytes need (fully coalesced), <see cref="GlobalStoreSectorsPerIdeal"/> the same for stores.
/// </summary>
/// <param name="Kernel">The entry point.</param>
/// <param name="Grid">Blocks along x, y and z.</param>
/// <param name="Block">Threads along x, y and z.</param>
/// <param name="SharedBytes">Dynamic shared memory per block.</param>
/// <param name="Elapsed">Host time the launch took (the emulator's, nothing like a GPU's).</param>
public sealed record EmulatorReport(
    string Kernel, (int X, int Y, int Z) Grid, (int X, int Y, int Z) Block, int SharedBytes, TimeSpan Elapsed)
{
    /// <summary>Blocks run.</summary>
    public ulong Blocks { get; init; }

    /// <summary>Threads run, over all blocks.</summary>
    public ulong Threads { get; init; }

    /// <summary><c>__syncthreads</c> released, over all blocks.</summary>
    public ulong Barriers { get; init; }

    /// <summary>Warp-wide <c>mma.sync</c> m16n8k16 instructions.</summary>
    public ulong Mma { get; init; }

    /// <summary>Warp-wide <c>ldmatrix</c> instructions.</summary>
    public ulong Ldmatrix { get; init; }

    /// <summary>Warp-wide <c>__shfl_xor_sync</c>.</summary>
    public ulong Shuffles { get; init; }

    /// <summary>Warp-wide <c>__syncwarp</c>.</summary>
    public ulong Syncwarps { get; init; }

    /// <summary>Per-thread <c>cp.async</c> copies.</summary>
    public ulong CopyAsync { get; init; }

    /// <summary>Bytes the <c>cp.async</c> copies moved.</summary>
    public ulong CopyAsyncBytes { get; init; }

    /// <summary>Per-thread <c>ex2.approx</c>.</summary>
    public ulong Ex2 { get; init; }

    /// <summary>Warp-wide shared-memory loads and stores (outside <c>ldmatrix</c>).</summary>
    public ulong SharedRequests { get; init; }

    /// <summary>Wavefronts those requests needed.</summary>
    public ulong SharedWavefronts { get; init; }

    /// <summary>Wavefronts they would need without bank conflicts.</summary>
    public ulong SharedIdealWavefronts { get; init; }

    /// <summary>Wavefronts the <c>ldmatrix</c> instructions needed.</summary>
    public ulong LdmatrixWavefronts { get; init; }

    /// <summary>Wavefronts they would need without bank conflicts (one per 8×8 matrix).</summary>
    public ulong LdmatrixIdealWavefronts { get; init; }

    /// <summary>Warp-wide global loads, <c>cp.async</c> sources included.</summary>
    public ulong GlobalLoadRequests { get; init; }

    /// <summary>32-byte sectors they touched.</summary>
    public ulong GlobalLoadSectors { get; init; }

    /// <summary>Sectors their bytes need at the least.</summary>
    public ulong GlobalLoadIdealSectors { get; init; }

    /// <summary>Warp-wide global stores.</summary>
    public ulong GlobalStoreRequests { get; init; }

    /// <summary>32-byte sectors they touched.</summary>
    public ulong GlobalStoreSectors { get; init; }

    /// <summary>Sectors their bytes need at the least.</summary>
    public ulong GlobalStoreIdealSectors { get; init; }

    /// <summary>Warpgroup-wide <c>wgmma.mma_async</c> instructions (sm_90a).</summary>
    public ulong Wgmma { get; init; }

    /// <summary>TMA tensor copies (<c>cp.async.bulk.tensor</c>, one per box).</summary>
    public ulong Tma { get; init; }

    /// <summary>Bytes the TMA copies wrote to shared memory, zero-filled elements included.</summary>
    public ulong TmaBytes { get; init; }

    /// <summary>Per-thread mbarrier waits.</summary>
    public ulong MbarrierWaits { get; init; }

    /// <summary>Shared wavefronts per conflict-free wavefront, plain accesses and <c>ldmatrix</c> together; 1 when none conflict.</summary>
    public double SharedConflictFactor => Ratio(SharedWavefronts + LdmatrixWavefronts, SharedIdealWavefronts + LdmatrixIdealWavefronts);

    /// <summary>The same for <c>ldmatrix</c> alone.</summary>
    public double LdmatrixConflictFactor => Ratio(LdmatrixWavefronts, LdmatrixIdealWavefronts);

    /// <summary>Global load sectors per needed sector; 1 when every load is fully coalesced.</summary>
    public double GlobalLoadSectorsPerIdeal => Ratio(GlobalLoadSectors, GlobalLoadIdealSectors);

    /// <summary>Global store sectors per needed sector; 1 when every store is fully coalesced.</summary>
    public double GlobalStoreSectorsPerIdeal => Ratio(GlobalStoreSectors, GlobalStoreIdealSectors);

    internal static EmulatorReport From(
        string kernel, (int X, int Y, int Z) grid, (int X, int Y, int Z) block, int sharedBytes, TimeSpan elapsed, in EmulatorCounters c) =>
        new(kernel, grid, block, sharedBytes, elapsed)
        {
            Blocks = c.Blocks, Threads = c.Threads, Barriers = c.Barriers, Mma = c.Mma, Ldmatrix = c.Ldmatrix, Shuffles = c.Shfl,
            Syncwarps = c.Syncwarp, CopyAsync = c.CpAsync, CopyAsyncBytes = c.CpAsyncBytes, Ex2 = c.Ex2,
            SharedRequests = c.SharedRequests, SharedWavefronts = c.SharedWavefronts, SharedIdealWavefronts = c.SharedIdealWavefronts,
            LdmatrixWavefronts = c.LdmatrixWavefronts, LdmatrixIdealWavefronts = c.LdmatrixIdealWavefronts,
            GlobalLoadRequests = c.GlobalLoadRequests, GlobalLoadSectors = c.GlobalLoadSectors, GlobalLoadIdealSectors = c.GlobalLoadIdealSectors,
            GlobalStoreRequests = c.GlobalStoreRequests, GlobalStoreSectors = c.GlobalStoreSectors, GlobalStoreIdealSectors = c.GlobalStoreIdealSectors,
            Wgmma = c.Wgmma, Tma = c.Tma, TmaBytes = c.TmaBytes, MbarrierWaits = c.MbarrierWaits,
        };

    private static double Ratio(ulong value, ulong ideal) => ideal == 0 ? 1.0 : (double)value / ideal;
}
