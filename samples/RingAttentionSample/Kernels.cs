using KernelDsl;
using KernelDsl.Ring;

namespace RingAttentionSample;

/// <summary>
/// Long-context causal attention, d = 128, sequence split over the ranks in zigzag order (each rank holds one
/// early and one late chunk, so causal work is equal on every rank at every step); the next K/V shard is
/// received while the current one is computed.
/// </summary>
[RingAttention(HeadDim = 128, Element = Element.BF16, Causal = true, Layout = RingLayout.Zigzag)]
[Tile(Q = 128, KV = 64), Warps(8), Overlap(Buffers = 2)]
public static partial class LongContext;

/// <summary>The same kernel with one K/V buffer: compute, then exchange, nothing overlapped (the baseline of the overlap figure).</summary>
[RingAttention(HeadDim = 128, Element = Element.BF16, Causal = true, Layout = RingLayout.Zigzag)]
[Tile(Q = 128, KV = 64), Warps(8), Overlap(Buffers = 1)]
public static partial class LongContextNoOverlap;
