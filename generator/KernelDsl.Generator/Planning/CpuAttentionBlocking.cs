namespace KernelDsl.Generator.Planning;

/// <summary>
/// Blocking of the CPU attention block kernel for one instruction set: QRows query rows attend KvRows
/// keys at a time (S = Q·Kᵀ of QRows×KvRows, online softmax, O += P·V), vectorised over the head
/// dimension with Lanes floats per vector.
/// </summary>
internal sealed record CpuAttentionBlocking(CpuIsa Isa, int Lanes, int QRows, int KvRows);
