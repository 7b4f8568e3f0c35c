using System;

namespace KernelDsl.Cpu;

/// <summary>
/// BLIS-style blocking of the CPU GEMM for one instruction set on this machine: an <paramref name="Mr"/>×<paramref name="Nr"/>
/// register microkernel, packed A blocks of <paramref name="Mc"/>×<paramref name="Kc"/>, packed B panels of
/// <paramref name="Kc"/>×<paramref name="Nc"/>.
/// </summary>
/// <param name="Isa">Instruction set.</param>
/// <param name="Mr">Microkernel rows.</param>
/// <param name="Nr">Microkernel columns (a multiple of the vector width).</param>
/// <param name="Kc">K depth of a packed block.</param>
/// <param name="Mc">Rows of a packed A block.</param>
/// <param name="Nc">Columns of a packed B panel.</param>
public sealed record CpuBlocking(CpuIsa Isa, int Mr, int Nr, int Kc, int Mc, int Nc) : ICpuBlocking
{
    /// <summary>
    /// The cache blocking of an <paramref name="mr"/>×<paramref name="nr"/> microkernel for <paramref name="caches"/>.
    /// Kc: deep enough that the load and store of each C tile, once per Kc steps of k, and the two parallel loops per
    /// K block are small next to the FMAs; a Kc×Nr sliver of packed B of one and a half L1 is re-read from L1 and L2
    /// for each A sliver, which L2's bandwidth sustains (docs/PERFORMANCE_NOTES.md has what one L1 and half an L1
    /// measured). Mc: an Mc×Kc block of packed A stays in half of L2 while the Nr-column slivers of B stream past
    /// (the driver then evens the row blocks out, <see cref="CpuGemmShape"/>). Nc: a Kc×Nc panel of packed B fits
    /// the L3 shares of two cores, the fewest a parallel call runs on (every core reads the whole panel), at most
    /// 4096 columns, so B is packed once per K block up to n = 4096.
    /// </summary>
    public static CpuBlocking For(CpuIsa isa, int mr, int nr, CpuCaches caches)
    {
        ArgumentNullException.ThrowIfNull(caches);
        int kc = RoundDown(Clamp(3 * caches.L1DataBytes / (2 * nr * sizeof(float)), 64, 512), 8);
        int mc = RoundDown(Clamp(caches.L2Bytes / 2 / (kc * sizeof(float)), mr, 512), mr);
        int nc = RoundDown(Clamp(2 * caches.L3BytesPerCore / (kc * sizeof(float)), nr, 4096), nr);
        return new CpuBlocking(isa, mr, nr, kc, mc, nc);
    }

    private static int Clamp(long value, int min, int max) => (int)Math.Clamp(value, min, max);

    private static int RoundDown(int value, int multiple) => value / multiple * multiple;
}
