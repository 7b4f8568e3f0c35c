using System;
using System.Collections.Generic;
using System.Linq;

namespace KernelDsl.RingHost;

/// <summary>The kernels of <c>Kernels.cs</c>, found by the shape options of the command line.</summary>
internal static class KernelCatalog
{
    private static readonly IReadOnlyList<HostKernel> All =
    [
        new(D32ZigzagCausal.Info, D32ZigzagCausal.Forward, D32ZigzagCausal.ForwardStep),
        new(D32ContiguousCausal.Info, D32ContiguousCausal.Forward, D32ContiguousCausal.ForwardStep),
        new(D32Contiguous.Info, D32Contiguous.Forward, D32Contiguous.ForwardStep),
        new(D32StripedCausalOneBuffer.Info, D32StripedCausalOneBuffer.Forward, D32StripedCausalOneBuffer.ForwardStep),
        new(D16Contiguous.Info, D16Contiguous.Forward, D16Contiguous.ForwardStep),
        new(D64ZigzagCausal.Info, D64ZigzagCausal.Forward, D64ZigzagCausal.ForwardStep),
        new(D64ZigzagCausalOneBuffer.Info, D64ZigzagCausalOneBuffer.Forward, D64ZigzagCausalOneBuffer.ForwardStep),
    ];

    /// <summary>The kernel generated for the options' head dimension, layout, mask and buffers; throws <see cref="ArgumentException"/> listing the others.</summary>
    public static HostKernel Find(HostOptions options) =>
        All.FirstOrDefault(kernel => kernel.Info.HeadDim == options.HeadDim && kernel.Info.Layout == options.Layout
            && kernel.Info.Causal == options.Causal && kernel.Info.Buffers == options.Buffers)
        ?? throw new ArgumentException(
            $"No kernel is generated for d = {options.HeadDim}, {options.Layout}, {(options.Causal ? "causal" : "no mask")}, {options.Buffers} buffer(s); " +
            "declared: " + string.Join("; ", All.Select(kernel =>
                $"d = {kernel.Info.HeadDim}, {kernel.Info.Layout}, {(kernel.Info.Causal ? "causal" : "no mask")}, {kernel.Info.Buffers} buffer(s)")) +
            " (add one to Kernels.cs).");
}
