using KernelDsl;

namespace KernelDsl.Tests.Cpu;

// Kernels the CPU tests run through the real generator: every transpose combination and each
// epilogue. The CUDA tiling is small and valid; only the CPU fallback is exercised here.

/// <summary>C ← α·A·B + β·C.</summary>
[Gemm(Element.F32)]
[Tile(M = 64, N = 64, K = 16), Warps(2, 2)]
public static partial class Plain;

/// <summary>C ← α·Aᵀ·B + β·C (A stored K×M).</summary>
[Gemm(Element.F32, TransposeA = true)]
[Tile(M = 64, N = 64, K = 16), Warps(2, 2)]
public static partial class TransposedA;

/// <summary>C ← α·A·Bᵀ + β·C (B stored N×K).</summary>
[Gemm(Element.F32, TransposeB = true)]
[Tile(M = 64, N = 64, K = 16), Warps(2, 2)]
public static partial class TransposedB;

/// <summary>C ← α·Aᵀ·Bᵀ + β·C.</summary>
[Gemm(Element.F32, TransposeA = true, TransposeB = true)]
[Tile(M = 64, N = 64, K = 16), Warps(2, 2)]
public static partial class TransposedAB;

/// <summary>C ← α·A·B + β·C + bias.</summary>
[Gemm(Element.F32)]
[Tile(M = 64, N = 64, K = 16), Warps(2, 2)]
[Epilogue(Bias = true)]
public static partial class BiasOnly;

/// <summary>C ← relu(α·A·B + β·C + bias).</summary>
[Gemm(Element.F32)]
[Tile(M = 64, N = 64, K = 16), Warps(2, 2)]
[Epilogue(Bias = true, Activation = Activation.Relu)]
public static partial class BiasRelu;

/// <summary>C ← gelu(α·A·Bᵀ + β·C + bias), as in a Linear layer.</summary>
[Gemm(Element.F32, TransposeB = true)]
[Tile(M = 64, N = 64, K = 16), Warps(2, 2)]
[Epilogue(Bias = true, Activation = Activation.Gelu)]
public static partial class BiasGelu;

/// <summary>C ← silu(α·A·B + β·C).</summary>
[Gemm(Element.F32)]
[Tile(M = 64, N = 64, K = 16), Warps(2, 2)]
[Epilogue(Activation = Activation.Silu)]
public static partial class Silu;

// 16-bit operands: each input type with each output type; the four transposes, bias and the
// activations spread over them so both packing paths of each input type run.

/// <summary>C ← α·A·B + β·C, A and B in fp16, C in fp32.</summary>
[Gemm(Element.F16)]
[Tile(M = 64, N = 64, K = 16), Warps(2, 2)]
public static partial class HalfToFloat;

/// <summary>C ← α·Aᵀ·B + β·C, all fp16.</summary>
[Gemm(Element.F16, Output = Element.F16, TransposeA = true)]
[Tile(M = 64, N = 64, K = 16), Warps(2, 2)]
public static partial class HalfToHalf;

/// <summary>C ← gelu(α·A·Bᵀ + β·C + bias), A and B in fp16, C and bias in bf16.</summary>
[Gemm(Element.F16, Output = Element.BF16, TransposeB = true)]
[Tile(M = 64, N = 64, K = 16), Warps(2, 2)]
[Epilogue(Bias = true, Activation = Activation.Gelu)]
public static partial class HalfToBFloat16;

/// <summary>C ← relu(α·Aᵀ·Bᵀ + β·C + bias), A and B in bf16, C and bias in fp32.</summary>
[Gemm(Element.BF16, TransposeA = true, TransposeB = true)]
[Tile(M = 64, N = 64, K = 16), Warps(2, 2)]
[Epilogue(Bias = true, Activation = Activation.Relu)]
public static partial class BFloat16ToFloat;

/// <summary>C ← α·A·B + β·C, all bf16.</summary>
[Gemm(Element.BF16, Output = Element.BF16)]
[Tile(M = 64, N = 64, K = 16), Warps(2, 2)]
public static partial class BFloat16ToBFloat16;

/// <summary>C ← silu(α·A·Bᵀ + β·C + bias), A and B in bf16, C and bias in fp16.</summary>
[Gemm(Element.BF16, Output = Element.F16, TransposeB = true)]
[Tile(M = 64, N = 64, K = 16), Warps(2, 2)]
[Epilogue(Bias = true, Activation = Activation.Silu)]
public static partial class BFloat16ToHalf;
