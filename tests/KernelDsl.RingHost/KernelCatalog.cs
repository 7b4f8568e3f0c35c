using System;
using System.Collections.Generic;
using System.Linq;
using KernelDsl.Generated;

namespace KernelDsl.RingHost;

/// <summary>
/// The fp32 kernels of <c>Kernels.cs</c>, as the generator lists them (<see cref="AssemblyKernels"/>), picked by the
/// shape options of the command line.
/// </summary>
internal static class KernelCatalog
{
    private static readonly IReadOnlyList<HostKernel> All = Collector.Visit();

    /// <summary>The kernel generated for the options' head dimension, layout, mask and buffers; throws <see cref="ArgumentException"/> listing the others.</summary>
    public static HostKernel Find(HostOptions options) =>
        All.FirstOrDefault(kernel => kernel.Info.HeadDim == options.HeadDim && kernel.Info.Layout == options.Layout
            && kernel.Info.Causal == options.Causal && kernel.Info.Buffers == options.Buffers)
        ?? throw new ArgumentException(
            $"No kernel is generated for d = {options.HeadDim}, {options.Layout}, {(options.Causal ? "causal" : "no mask")}, {options.Buffers} buffer(s); " +
            "declared: " + string.Join("; ", All.Select(kernel =>
                $"d = {kernel.Info.HeadDim}, {kernel.Info.Layout}, {(kernel.Info.Causal ? "causal" : "no mask")}, {kernel.Info.Buffers} buffer(s)")) +
            " (add one to Kernels.cs).");

    private sealed class Collector : IKernelVisitor
    {
        private readonly List<HostKernel> kernels = [];

        public static List<HostKernel> Visit()
        {
            var collector = new Collector();
            AssemblyKernels.Visit(collector);
            return collector.kernels;
        }

        public void Gemm<TKernel, TInput, TOutput>()
            where TKernel : IGemmKernel<TInput, TOutput>
            where TInput : unmanaged
            where TOutput : unmanaged
        {
        }

        public void Attention<TKernel, TElement>()
            where TKernel : IAttentionKernel<TElement>
            where TElement : unmanaged
        {
            if (typeof(TElement) == typeof(float))
            {
                kernels.Add(HostKernel.Of<TKernel, TElement>());
            }
        }
    }
}
