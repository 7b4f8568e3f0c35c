using System;
using System.Collections.Generic;
using System.Linq;
using KernelDsl.Generated;

namespace KernelDsl.GpuRunner;

/// <summary>
/// Every kernel the runner declares (Kernels.cs), as the generator lists them (<see cref="AssemblyKernels"/>, in name
/// order): a kernel added to Kernels.cs is checked, timed and compiled with no other change.
/// </summary>
internal static class KernelCatalog
{
    private static readonly Collector Declared = Collector.Visit();

    public static IReadOnlyList<GemmCase> Gemms => Declared.Gemms;

    public static IReadOnlyList<AttentionCase> Attentions => Declared.Attentions;

    /// <summary>Every kernel, GEMMs first, each GEMM's sm_90a kernel after it (a case of its own for compiling).</summary>
    public static IEnumerable<KernelCase> All => Gemms.SelectMany(gemm => gemm.Sm90a is { } sm90a ? new[] { gemm, sm90a } : new KernelCase[] { gemm })
        .Concat(Attentions.SelectMany(attention => attention.Backward is { } backward ? new[] { attention, backward } : new KernelCase[] { attention }));

    /// <summary>Kernels whose name contains <paramref name="filter"/> (case-insensitive); all when null.</summary>
    public static IEnumerable<T> Matching<T>(IEnumerable<T> kernels, string? filter)
        where T : KernelCase
        => filter is null ? kernels : kernels.Where(kernel => kernel.Name.Contains(filter, StringComparison.OrdinalIgnoreCase));

    private sealed class Collector : IKernelVisitor
    {
        public List<GemmCase> Gemms { get; } = [];

        public List<AttentionCase> Attentions { get; } = [];

        public static Collector Visit()
        {
            var collector = new Collector();
            AssemblyKernels.Visit(collector);
            return collector;
        }

        public void Gemm<TKernel, TInput, TOutput>()
            where TKernel : IGemmKernel<TInput, TOutput>
            where TInput : unmanaged
            where TOutput : unmanaged
            => Gemms.Add(new GemmCase<TKernel, TInput, ElementOf<TInput>, TOutput, ElementOf<TOutput>>());

        public void Attention<TKernel, TElement>()
            where TKernel : IAttentionKernel<TElement>
            where TElement : unmanaged
            => Attentions.Add(new AttentionCase<TKernel, TElement, ElementOf<TElement>>());
    }
}
