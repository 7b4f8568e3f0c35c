namespace KernelDsl.Cuda;

/// <summary>ptxas resource usage of one entry function (<c>__global__</c>).</summary>
/// <param name="Name">The entry's (mangled, unless <c>extern "C"</c>) name.</param>
/// <param name="Registers">Registers per thread.</param>
/// <param name="SharedBytes">Static shared memory per block; dynamic shared memory is not included.</param>
/// <param name="SpillStoreBytes">Bytes stored to local memory by register spills.</param>
/// <param name="SpillLoadBytes">Bytes loaded back from local memory by register spills.</param>
/// <param name="StackFrameBytes">Per-thread stack frame.</param>
public sealed record PtxasFunction(
    string Name, int Registers, int SharedBytes, int SpillStoreBytes, int SpillLoadBytes, int StackFrameBytes);
