using System;
using System.Collections.Generic;
using KernelDsl.Cpu;

namespace KernelDsl.Ring;

/// <summary>
/// Ring attention on the CPU block kernels: <see cref="RingAttentionDriver"/> with the register tiles of a vector
/// width and a kernel's head dimension and scale (<c>TScores</c>, an <see cref="IAttentionScores"/>). Called by the
/// generated entry points of every <c>[RingAttention]</c> class; the driver documents each method's arguments and
/// exceptions. The last argument, <c>isa</c>, forces the vector width (null: <see cref="CpuFeatures.Best"/>); a
/// width that is not a <see cref="CpuIsa"/> throws <see cref="ArgumentOutOfRangeException"/>.
/// </summary>
public static class CpuRingAttention
{
    /// <summary>The CPU block kernel's blocking per instruction set, widest first (the same for every kernel).</summary>
    public static IReadOnlyList<CpuAttentionBlocking> Blocking { get; } =
    [
        BlockingOf<Vector512AttentionTiles<NoScores>>(), BlockingOf<Vector256AttentionTiles<NoScores>>(),
        BlockingOf<Vector128AttentionTiles<NoScores>>(), BlockingOf<ScalarAttentionTiles<NoScores>>(),
    ];

    /// <inheritdoc cref="RingAttentionDriver.Forward{TKernel, TElement}"/>
    public static RingAttentionTimings Forward<TScores, TElement>(IRingCommunicator communicator, RingAttentionOptions options, ReadOnlySpan<TElement> q, ReadOnlySpan<TElement> k, ReadOnlySpan<TElement> v, Span<TElement> o, Span<float> lse, CpuIsa? isa)
        where TScores : struct, IAttentionScores
        where TElement : unmanaged
        => (isa ?? CpuFeatures.Best) switch
        {
            CpuIsa.Vector512 => RingAttentionDriver.Forward<CpuAttentionKernel<Vector512AttentionTiles<TScores>, TScores, TElement>, TElement>(communicator, options, q, k, v, o, lse),
            CpuIsa.Vector256 => RingAttentionDriver.Forward<CpuAttentionKernel<Vector256AttentionTiles<TScores>, TScores, TElement>, TElement>(communicator, options, q, k, v, o, lse),
            CpuIsa.Vector128 => RingAttentionDriver.Forward<CpuAttentionKernel<Vector128AttentionTiles<TScores>, TScores, TElement>, TElement>(communicator, options, q, k, v, o, lse),
            CpuIsa.Scalar => RingAttentionDriver.Forward<CpuAttentionKernel<ScalarAttentionTiles<TScores>, TScores, TElement>, TElement>(communicator, options, q, k, v, o, lse),
            _ => throw NotAnIsa(isa),
        };

    /// <inheritdoc cref="RingAttentionDriver.ForwardStep{TKernel, TElement}"/>
    public static void ForwardStep<TScores, TElement>(RingAttentionOptions options, int ranks, int rank, int sourceRank, ReadOnlySpan<TElement> q, ReadOnlySpan<TElement> k, ReadOnlySpan<TElement> v, Span<float> runningO, Span<float> runningLse, CpuIsa? isa)
        where TScores : struct, IAttentionScores
        where TElement : unmanaged
    {
        switch (isa ?? CpuFeatures.Best)
        {
            case CpuIsa.Vector512: RingAttentionDriver.ForwardStep<CpuAttentionKernel<Vector512AttentionTiles<TScores>, TScores, TElement>, TElement>(options, ranks, rank, sourceRank, q, k, v, runningO, runningLse); break;
            case CpuIsa.Vector256: RingAttentionDriver.ForwardStep<CpuAttentionKernel<Vector256AttentionTiles<TScores>, TScores, TElement>, TElement>(options, ranks, rank, sourceRank, q, k, v, runningO, runningLse); break;
            case CpuIsa.Vector128: RingAttentionDriver.ForwardStep<CpuAttentionKernel<Vector128AttentionTiles<TScores>, TScores, TElement>, TElement>(options, ranks, rank, sourceRank, q, k, v, runningO, runningLse); break;
            case CpuIsa.Scalar: RingAttentionDriver.ForwardStep<CpuAttentionKernel<ScalarAttentionTiles<TScores>, TScores, TElement>, TElement>(options, ranks, rank, sourceRank, q, k, v, runningO, runningLse); break;
            default: throw NotAnIsa(isa);
        }
    }

    /// <inheritdoc cref="RingAttentionDriver.Attention{TKernel, TElement}"/>
    public static void Attention<TScores, TElement>(RingAttentionOptions options, ReadOnlySpan<TElement> q, ReadOnlySpan<TElement> k, ReadOnlySpan<TElement> v, Span<TElement> o, Span<float> lse, CpuIsa? isa)
        where TScores : struct, IAttentionScores
        where TElement : unmanaged
    {
        switch (isa ?? CpuFeatures.Best)
        {
            case CpuIsa.Vector512: RingAttentionDriver.Attention<CpuAttentionKernel<Vector512AttentionTiles<TScores>, TScores, TElement>, TElement>(options, q, k, v, o, lse); break;
            case CpuIsa.Vector256: RingAttentionDriver.Attention<CpuAttentionKernel<Vector256AttentionTiles<TScores>, TScores, TElement>, TElement>(options, q, k, v, o, lse); break;
            case CpuIsa.Vector128: RingAttentionDriver.Attention<CpuAttentionKernel<Vector128AttentionTiles<TScores>, TScores, TElement>, TElement>(options, q, k, v, o, lse); break;
            case CpuIsa.Scalar: RingAttentionDriver.Attention<CpuAttentionKernel<ScalarAttentionTiles<TScores>, TScores, TElement>, TElement>(options, q, k, v, o, lse); break;
            default: throw NotAnIsa(isa);
        }
    }

    /// <inheritdoc cref="RingAttentionDriver.Finalize{TKernel, TElement}"/>
    public static void Finalize<TElement>(ReadOnlySpan<float> runningO, ReadOnlySpan<float> runningLse, Span<TElement> o, Span<float> lse)
        where TElement : unmanaged
        => RingAttentionDriver.Finalize<CpuAttentionKernel<ScalarAttentionTiles<NoScores>, NoScores, TElement>, TElement>(runningO, runningLse, o, lse);

    private static CpuAttentionBlocking BlockingOf<TTiles>()
        where TTiles : struct, ICpuAttentionTiles
        => new(TTiles.Isa, TTiles.QRows, TTiles.KvRows);

    private static ArgumentOutOfRangeException NotAnIsa(CpuIsa? isa) => new(nameof(isa), isa, "Not a CPU instruction set.");

    /// <summary>For what does not depend on a kernel's scores: the blocking, and writing a state out.</summary>
    private readonly struct NoScores : IAttentionScores
    {
        public static int HeadDim => 0;

        public static float Scale => 0f;

        public static float ScaleLog2 => 0f;
    }
}
