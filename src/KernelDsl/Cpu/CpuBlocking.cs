namespace KernelDsl.Cpu;

/// <summary>
/// BLIS-style blocking of a CPU fallback for one instruction set: an <paramref name="Mr"/>×<paramref name="Nr"/>
/// register microkernel, packed A blocks of <paramref name="Mc"/>×<paramref name="Kc"/>, packed B panels of
/// <paramref name="Kc"/>×<paramref name="Nc"/>.
/// </summary>
/// <param name="Isa">Instruction set.</param>
/// <param name="Mr">Microkernel rows.</param>
/// <param name="Nr">Microkernel columns (a multiple of the vector width).</param>
/// <param name="Kc">K depth of a packed block.</param>
/// <param name="Mc">Rows of a packed A block.</param>
/// <param name="Nc">Columns of a packed B panel.</param>
public sealed record CpuBlocking(CpuIsa Isa, int Mr, int Nr, int Kc, int Mc, int Nc) : ICpuBlocking;
