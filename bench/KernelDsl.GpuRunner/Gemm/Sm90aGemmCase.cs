using System.Collections.Generic;

namespace KernelDsl.GpuRunner;

/// <summary>
/// A GEMM's sm_90a kernel (<c>CudaSourceSm90a</c>) for <c>check --compile-only</c>: its registers, spills and shared
/// memory under the GPU machine's ptxas. <c>check</c> and <c>time</c> reach it through the GEMM's own <c>Launch</c>,
/// which picks it on compute capability 9.0.
/// </summary>
internal sealed class Sm90aGemmCase(string gemm, string source, HopperGemmInfo plan) : KernelCase
{
    public override string Name => gemm + ".sm90a";

    public override string Kind => "gemm";

    public override string Source => source;

    public override IReadOnlyList<(string Entry, int DynamicSharedBytes)> Entries => [(plan.EntryPoint, plan.SharedMemoryBytes)];

    public override string Description => plan.ToString();

    public override bool ArchSpecific => true;
}
