namespace KernelDsl.Generator.Planning;

/// <summary>
/// BLIS-style blocking of the CPU fallback for one instruction set: an Mr×Nr register
/// microkernel (Nr a multiple of the vector width), packed A blocks of Mc×Kc and packed B
/// panels of Kc×Nc.
/// </summary>
internal sealed record CpuBlocking(CpuIsa Isa, int Lanes, int Mr, int Nr, int Kc, int Mc, int Nc)
{
    /// <summary>Vectors per microkernel row.</summary>
    public int VectorsPerRow => Nr / Lanes;

    /// <summary>Accumulator registers of the microkernel.</summary>
    public int Accumulators => Mr * VectorsPerRow;
}
