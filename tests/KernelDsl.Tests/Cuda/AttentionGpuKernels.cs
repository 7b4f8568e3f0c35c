using KernelDsl;
using KernelDsl.Ring;

namespace KernelDsl.Tests.Cuda;

// Ring-attention kernels the GPU tests run through the real generator: one per CUDA path and element type.

/// <summary>fp32 on CUDA cores, causal, zigzag layout.</summary>
[RingAttention(HeadDim = 64, Element = Element.F32, Causal = true, Layout = RingLayout.Zigzag)]
[Tile(Q = 64, KV = 32), Warps(4)]
public static partial class AttentionF32Causal;

/// <summary>fp16 on tensor cores, non-causal.</summary>
[RingAttention(HeadDim = 64, Element = Element.F16)]
[Tile(Q = 128, KV = 64), Warps(4)]
public static partial class AttentionF16;

/// <summary>bf16 on tensor cores, causal, striped layout, d = 128.</summary>
[RingAttention(HeadDim = 128, Element = Element.BF16, Causal = true, Layout = RingLayout.Striped)]
[Tile(Q = 64, KV = 64), Warps(4)]
public static partial class AttentionBF16Causal;
