using KernelDsl;
using KernelDsl.Ring;

namespace KernelDsl.RingHost;

// The generated fp32 ring attention kernels the host runs; KernelCatalog picks one by head dimension, layout,
// mask and buffers. The d = 32 ones serve the MPI tests (small shards keep 4 ranks on 2 cores quick), d = 16
// is the odd rank of the mismatch test, d = 64 the measured ring of docs/RING.md.

/// <summary>d = 32, zigzag, causal, overlapped.</summary>
[RingAttention(HeadDim = 32, Element = Element.F32, Causal = true, Layout = RingLayout.Zigzag)]
[Tile(Q = 64, KV = 32), Warps(4), Overlap(Buffers = 2)]
public static partial class D32ZigzagCausal;

/// <summary>d = 32, contiguous, causal, overlapped.</summary>
[RingAttention(HeadDim = 32, Element = Element.F32, Causal = true, Layout = RingLayout.Contiguous)]
[Tile(Q = 64, KV = 32), Warps(4), Overlap(Buffers = 2)]
public static partial class D32ContiguousCausal;

/// <summary>d = 32, contiguous, no mask, overlapped.</summary>
[RingAttention(HeadDim = 32, Element = Element.F32, Layout = RingLayout.Contiguous)]
[Tile(Q = 64, KV = 32), Warps(4), Overlap(Buffers = 2)]
public static partial class D32Contiguous;

/// <summary>d = 32, striped, causal, one buffer (compute, then exchange).</summary>
[RingAttention(HeadDim = 32, Element = Element.F32, Causal = true, Layout = RingLayout.Striped)]
[Tile(Q = 64, KV = 32), Warps(4), Overlap(Buffers = 1)]
public static partial class D32StripedCausalOneBuffer;

/// <summary>d = 16, contiguous, no mask, overlapped.</summary>
[RingAttention(HeadDim = 16, Element = Element.F32, Layout = RingLayout.Contiguous)]
[Tile(Q = 48, KV = 16), Warps(4), Overlap(Buffers = 2)]
public static partial class D16Contiguous;

/// <summary>d = 64, zigzag, causal, overlapped.</summary>
[RingAttention(HeadDim = 64, Element = Element.F32, Causal = true, Layout = RingLayout.Zigzag)]
[Tile(Q = 64, KV = 64), Warps(4), Overlap(Buffers = 2)]
public static partial class D64ZigzagCausal;

/// <summary>d = 64, zigzag, causal, one buffer.</summary>
[RingAttention(HeadDim = 64, Element = Element.F32, Causal = true, Layout = RingLayout.Zigzag)]
[Tile(Q = 64, KV = 64), Warps(4), Overlap(Buffers = 1)]
public static partial class D64ZigzagCausalOneBuffer;
