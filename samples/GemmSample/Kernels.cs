using KernelDsl;

namespace GemmSample;

/// <summary>A Linear layer with ReLU: y = relu(x·Wᵀ + b), W stored [out, in] as PyTorch does.</summary>
[Gemm(Element.F32, TransposeB = true)]
[Tile(M = 128, N = 128, K = 16), Warps(2, 4), Pipeline(Stages = 2)]
[Epilogue(Bias = true, Activation = Activation.Relu)]
public static partial class Proj;

/// <summary>A plain C = A·B with a three-stage pipeline and the default 128×128×16 tile.</summary>
[Gemm(Element.F32)]
[Pipeline(Stages = 3)]
public static partial class Square;

/// <summary>A gated projection from a K-major activation: silu(Aᵀ·B + b) with a smaller 64×64×32 tile.</summary>
[Gemm(Element.F32, TransposeA = true)]
[Tile(M = 64, N = 64, K = 32), Warps(2, 2), Pipeline(Stages = 4)]
[Epilogue(Bias = true, Activation = Activation.Silu)]
public static partial class Gate;
