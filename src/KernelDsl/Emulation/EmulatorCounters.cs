using System.Runtime.InteropServices;

namespace KernelDsl.Emulation;

/// <summary><c>kd_emu_report</c>, field for field; <see cref="EmulatorReport"/> is its public face.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct EmulatorCounters
{
    public ulong Blocks, Threads, Barriers, Mma, Ldmatrix, Shfl, Syncwarp, CpAsync, CpAsyncBytes, Ex2;
    public ulong SharedRequests, SharedWavefronts, SharedIdealWavefronts;
    public ulong LdmatrixWavefronts, LdmatrixIdealWavefronts;
    public ulong GlobalLoadRequests, GlobalLoadSectors, GlobalLoadIdealSectors;
    public ulong GlobalStoreRequests, GlobalStoreSectors, GlobalStoreIdealSectors;
    public ulong Wgmma, Tma, TmaBytes, MbarrierWaits;
}
