using KernelDsl.Ring;

namespace KernelDsl.GpuRunner;

// Tensor cores, "TN" (C = A·Bᵀ, B stored N×K as a Linear layer's weight, the layout cuBLAS users run),
// fp32 output: Triton's standard matmul configurations (tile M×N×K / stages / warps).

/// <summary>fp16, 128×256×64, 3 stages, 8 warps.</summary>
[Gemm(Element.F16, TransposeB = true)]
[Tile(M = 128, N = 256, K = 64), Warps(2, 4), Pipeline(Stages = 3)]
public static partial class F16Tn128x256x64;

/// <summary>fp16, 128×128×32, 4 stages, 4 warps.</summary>
[Gemm(Element.F16, TransposeB = true)]
[Tile(M = 128, N = 128, K = 32), Warps(2, 2), Pipeline(Stages = 4)]
public static partial class F16Tn128x128x32;

/// <summary>fp16, 64×128×32, 4 stages, 4 warps.</summary>
[Gemm(Element.F16, TransposeB = true)]
[Tile(M = 64, N = 128, K = 32), Warps(2, 2), Pipeline(Stages = 4)]
public static partial class F16Tn64x128x32;

/// <summary>fp16, 64×32×32, 5 stages, 2 warps.</summary>
[Gemm(Element.F16, TransposeB = true)]
[Tile(M = 64, N = 32, K = 32), Warps(2, 1), Pipeline(Stages = 5)]
public static partial class F16Tn64x32x32;

/// <summary>bf16, 128×256×64, 3 stages, 8 warps.</summary>
[Gemm(Element.BF16, TransposeB = true)]
[Tile(M = 128, N = 256, K = 64), Warps(2, 4), Pipeline(Stages = 3)]
public static partial class Bf16Tn128x256x64;

/// <summary>bf16, 128×128×32, 4 stages, 4 warps.</summary>
[Gemm(Element.BF16, TransposeB = true)]
[Tile(M = 128, N = 128, K = 32), Warps(2, 2), Pipeline(Stages = 4)]
public static partial class Bf16Tn128x128x32;

/// <summary>bf16, 64×128×32, 4 stages, 4 warps.</summary>
[Gemm(Element.BF16, TransposeB = true)]
[Tile(M = 64, N = 128, K = 32), Warps(2, 2), Pipeline(Stages = 4)]
public static partial class Bf16Tn64x128x32;

/// <summary>bf16, 64×32×32, 5 stages, 2 warps.</summary>
[Gemm(Element.BF16, TransposeB = true)]
[Tile(M = 64, N = 32, K = 32), Warps(2, 1), Pipeline(Stages = 5)]
public static partial class Bf16Tn64x32x32;

// Other layouts and epilogues on tensor cores.

/// <summary>fp16 "NN" (C = A·B, B stored K×N), fp32 output: ldmatrix.trans on B.</summary>
[Gemm(Element.F16)]
[Tile(M = 128, N = 128, K = 32), Warps(2, 2), Pipeline(Stages = 4)]
public static partial class F16Nn128x128x32;

/// <summary>An MLP up-projection: gelu(A·Bᵀ + bias), fp16 in and out.</summary>
[Gemm(Element.F16, Output = Element.F16, TransposeB = true)]
[Tile(M = 128, N = 128, K = 32), Warps(2, 2), Pipeline(Stages = 3)]
[Epilogue(Bias = true, Activation = Activation.Gelu)]
public static partial class F16TnBiasGeluF16;

// fp32 SIMT: the configurations of samples/GemmSample (copied: a sample is an executable, not a library).

/// <summary>relu(x·Wᵀ + b), as samples/GemmSample's Proj.</summary>
[Gemm(Element.F32, TransposeB = true)]
[Tile(M = 128, N = 128, K = 16), Warps(2, 4), Pipeline(Stages = 2)]
[Epilogue(Bias = true, Activation = Activation.Relu)]
public static partial class F32Proj;

/// <summary>A·B with the default 128×128×16 tile and 3 stages, as samples/GemmSample's Square.</summary>
[Gemm(Element.F32)]
[Pipeline(Stages = 3)]
public static partial class F32Square;

/// <summary>silu(Aᵀ·B + b), 64×64×32, as samples/GemmSample's Gate.</summary>
[Gemm(Element.F32, TransposeA = true)]
[Tile(M = 64, N = 64, K = 32), Warps(2, 2), Pipeline(Stages = 4)]
[Epilogue(Bias = true, Activation = Activation.Silu)]
public static partial class F32Gate;

// Ring attention, d = 128, bf16: one rank (P = 1) is plain FlashAttention-2 forward, timed against PyTorch's SDPA.

/// <summary>bf16 attention, d = 128, no mask.</summary>
[RingAttention(HeadDim = 128, Element = Element.BF16)]
[Tile(Q = 64, KV = 64), Warps(4)]
public static partial class AttnBf16D128;

/// <summary>bf16 attention, d = 128, causal.</summary>
[RingAttention(HeadDim = 128, Element = Element.BF16, Causal = true)]
[Tile(Q = 64, KV = 64), Warps(4)]
public static partial class AttnBf16D128Causal;

/// <summary>bf16 attention, d = 128, causal, 128 queries and 8 warps per block (zigzag layout; one rank reads it in order).</summary>
[RingAttention(HeadDim = 128, Element = Element.BF16, Causal = true, Layout = RingLayout.Zigzag)]
[Tile(Q = 128, KV = 64), Warps(8)]
public static partial class AttnBf16D128CausalQ128;
