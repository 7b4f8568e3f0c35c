using KernelDsl;
using KernelDsl.Ring;

namespace KernelDsl.Tests.Attention;

// Ring-attention kernels the CPU tests run through the real generator: fp32 with d = 64 under every
// layout, causal and not; d = 128; fp16 and bf16. Layout, mask and element are compile-time choices,
// so each combination a test needs is its own class. The CUDA tiling is valid; only the CPU fallback runs here.

/// <summary>fp32, d = 64, causal, contiguous shards.</summary>
[RingAttention(HeadDim = 64, Causal = true, Layout = RingLayout.Contiguous)]
[Tile(Q = 64, KV = 64), Warps(4)]
public static partial class F32CausalContiguous;

/// <summary>fp32, d = 64, causal, striped shards.</summary>
[RingAttention(HeadDim = 64, Causal = true, Layout = RingLayout.Striped)]
[Tile(Q = 64, KV = 64), Warps(4)]
public static partial class F32CausalStriped;

/// <summary>fp32, d = 64, causal, zigzag shards.</summary>
[RingAttention(HeadDim = 64, Causal = true, Layout = RingLayout.Zigzag)]
[Tile(Q = 64, KV = 64), Warps(4)]
public static partial class F32CausalZigzag;

/// <summary>fp32, d = 64, no mask, contiguous shards, one buffer (no overlap).</summary>
[RingAttention(HeadDim = 64, Layout = RingLayout.Contiguous)]
[Tile(Q = 64, KV = 64), Warps(4), Overlap(Buffers = 1)]
public static partial class F32Contiguous;

/// <summary>fp32, d = 64, no mask, striped shards.</summary>
[RingAttention(HeadDim = 64, Layout = RingLayout.Striped)]
[Tile(Q = 64, KV = 64), Warps(4)]
public static partial class F32Striped;

/// <summary>fp32, d = 64, no mask, zigzag shards.</summary>
[RingAttention(HeadDim = 64, Layout = RingLayout.Zigzag)]
[Tile(Q = 64, KV = 64), Warps(4)]
public static partial class F32Zigzag;

/// <summary>fp32, d = 128, causal, zigzag shards.</summary>
[RingAttention(HeadDim = 128, Causal = true, Layout = RingLayout.Zigzag)]
[Tile(Q = 64, KV = 32), Warps(4)]
public static partial class F32D128CausalZigzag;

/// <summary>fp32, d = 128, no mask, striped shards, an explicit scale.</summary>
[RingAttention(HeadDim = 128, Scale = 0.05f, Layout = RingLayout.Striped)]
[Tile(Q = 64, KV = 32), Warps(4)]
public static partial class F32D128Striped;

/// <summary>fp16, d = 64, causal, zigzag shards.</summary>
[RingAttention(HeadDim = 64, Element = Element.F16, Causal = true, Layout = RingLayout.Zigzag)]
[Tile(Q = 64, KV = 64), Warps(4)]
public static partial class F16CausalZigzag;

/// <summary>fp16, d = 128, no mask, contiguous shards.</summary>
[RingAttention(HeadDim = 128, Element = Element.F16, Layout = RingLayout.Contiguous)]
[Tile(Q = 64, KV = 64), Warps(4)]
public static partial class F16D128Contiguous;

/// <summary>bf16, d = 64, causal, striped shards.</summary>
[RingAttention(HeadDim = 64, Element = Element.BF16, Causal = true, Layout = RingLayout.Striped)]
[Tile(Q = 64, KV = 64), Warps(4)]
public static partial class BF16CausalStriped;

/// <summary>bf16, d = 128, causal, contiguous shards.</summary>
[RingAttention(HeadDim = 128, Element = Element.BF16, Causal = true, Layout = RingLayout.Contiguous)]
[Tile(Q = 64, KV = 64), Warps(4)]
public static partial class BF16D128CausalContiguous;
