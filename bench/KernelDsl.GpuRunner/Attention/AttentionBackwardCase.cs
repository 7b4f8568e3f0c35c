using System.Collections.Generic;

namespace KernelDsl.GpuRunner;

/// <summary>
/// An attention kernel's backward pass (<c>CudaBackwardSource</c>) for <c>check --compile-only</c>: its registers, spills
/// and shared memory under the GPU machine's ptxas. <c>time</c> reaches it through the kernel's <c>LaunchBackwardStep</c>.
/// </summary>
internal sealed class AttentionBackwardCase(string attention, string source, AttentionBackwardInfo plan) : KernelCase
{
    public override string Name => attention + ".backward";

    public override string Kind => "attention";

    public override string Source => source;

    public override IReadOnlyList<(string Entry, int DynamicSharedBytes)> Entries =>
        [(plan.StepEntryPoint, plan.SharedMemoryBytes), (plan.DeltaEntryPoint, 0), (plan.GradientEntryPoint, 0)];

    public override string Description => plan.ToString();
}
