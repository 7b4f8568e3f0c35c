namespace KernelDsl.Cpu;

/// <summary>
/// Blocking of a ring-attention kernel's CPU block kernel for one instruction set: <paramref name="QRows"/> query rows
/// share each K and V vector load, and the K/V shard is walked <paramref name="KvRows"/> keys at a time.
/// </summary>
/// <param name="Isa">Instruction set.</param>
/// <param name="QRows">Query rows processed together (the register tile's rows).</param>
/// <param name="KvRows">Keys per inner step.</param>
public sealed record CpuAttentionBlocking(CpuIsa Isa, int QRows, int KvRows) : ICpuBlocking;
