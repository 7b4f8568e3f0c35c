using KernelDsl.Ring;

namespace KernelDsl.Benchmarks;

// The kernels the suites measure, each declared as a user would. Attention is fp32 so that it computes exactly
// what its fp32 peers (ONNX Runtime, OpenBLAS) compute; a kernel's mask is part of its description, hence one
// class per (head dimension, mask).

/// <summary>Plain C = A·B in fp32 with the default tiling.</summary>
[Gemm(Element.F32)]
public static partial class BenchSgemm;

/// <summary>C = A·B with fp16 operands, fp32 accumulation and output.</summary>
[Gemm(Element.F16)]
public static partial class BenchHgemm;

/// <summary>C = A·B with bf16 operands, fp32 accumulation and output.</summary>
[Gemm(Element.BF16)]
public static partial class BenchBgemm;

/// <summary>fp32 attention, d = 64, no mask.</summary>
[RingAttention(HeadDim = 64, Element = Element.F32)]
public static partial class BenchAttention64;

/// <summary>fp32 attention, d = 64, causal.</summary>
[RingAttention(HeadDim = 64, Element = Element.F32, Causal = true)]
public static partial class BenchCausalAttention64;

/// <summary>fp32 attention, d = 128, no mask (fp32 tiles of Q 64 × KV 32 rows: the default 128 × 64 would not fit in shared memory).</summary>
[RingAttention(HeadDim = 128, Element = Element.F32)]
[Tile(Q = 64, KV = 32)]
public static partial class BenchAttention128;

/// <summary>fp32 attention, d = 128, causal.</summary>
[RingAttention(HeadDim = 128, Element = Element.F32, Causal = true)]
[Tile(Q = 64, KV = 32)]
public static partial class BenchCausalAttention128;

/// <summary>The ring-overlap suite's kernel: bf16, d = 128, causal zigzag, the next K/V shard received during compute.</summary>
[RingAttention(HeadDim = 128, Element = Element.BF16, Causal = true, Layout = RingLayout.Zigzag)]
[Overlap(Buffers = 2)]
public static partial class RingDoubleBuffered;

/// <summary>The same ring with one K/V buffer: compute, then exchange.</summary>
[RingAttention(HeadDim = 128, Element = Element.BF16, Causal = true, Layout = RingLayout.Zigzag)]
[Overlap(Buffers = 1)]
public static partial class RingSingleBuffered;
