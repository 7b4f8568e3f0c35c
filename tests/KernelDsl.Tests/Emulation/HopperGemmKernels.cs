namespace KernelDsl.Tests.Emulation;

// sm_90a GEMMs beside the declared 64-row ones (one consumer warpgroup, one wgmma block): two consumer warpgroups with
// the 128-byte swizzle, and two consumers of two 64-row wgmma blocks each with the 64-byte swizzle, a fused bias and
// activation. EmulatedGemmTests runs each on both emulators.

[Gemm(Element.BF16, Output = Element.BF16, TransposeB = true)]
[Tile(M = 128, N = 128, K = 64), Warps(2, 2), Pipeline(Stages = 4)]
public static partial class Sm90aTwoConsumers;

[Gemm(Element.F16, TransposeB = true)]
[Tile(M = 256, N = 64, K = 32), Warps(4, 2), Pipeline(Stages = 3)]
[Epilogue(Bias = true, Activation = Activation.Relu)]
public static partial class Sm90aTwoBlocksEach;
