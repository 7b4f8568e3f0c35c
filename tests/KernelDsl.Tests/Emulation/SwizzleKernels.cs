using KernelDsl.Ring;

namespace KernelDsl.Tests.Emulation;

// Tensor-core tiles whose rows hold a chunk count (16-byte chunks) that is not a power of two, beside the
// declared kernels' powers of two: the swizzle must keep ldmatrix conflict-free for every count.

[Gemm(Element.F16, TransposeB = true)]
[Tile(M = 64, N = 64, K = 48), Warps(2, 2), Pipeline(Stages = 3)]
public static partial class TnK48;

[Gemm(Element.BF16)]
[Tile(M = 64, N = 96, K = 32), Warps(2, 2), Pipeline(Stages = 3)]
public static partial class NnN96;

[Gemm(Element.F16, TransposeA = true, TransposeB = true)]
[Tile(M = 96, N = 64, K = 32), Warps(2, 2), Pipeline(Stages = 3)]
public static partial class TtM96;

[RingAttention(HeadDim = 80, Element = Element.F16, Causal = true, Layout = RingLayout.Zigzag)]
[Tile(Q = 64, KV = 64), Warps(4)]
public static partial class AttentionD80;

[RingAttention(HeadDim = 96, Element = Element.BF16, Layout = RingLayout.Striped)]
[Tile(Q = 64, KV = 64), Warps(4)]
public static partial class AttentionD96;

[RingAttention(HeadDim = 112, Element = Element.F16, Layout = RingLayout.Contiguous)]
[Tile(Q = 64, KV = 32), Warps(4)]
public static partial class AttentionD112;

[RingAttention(HeadDim = 160, Element = Element.BF16, Causal = true, Layout = RingLayout.Contiguous)]
[Tile(Q = 64, KV = 32), Warps(4)]
public static partial class AttentionD160;

[RingAttention(HeadDim = 80, Element = Element.F32, Layout = RingLayout.Zigzag)]
[Tile(Q = 64, KV = 32), Warps(4)]
public static partial class AttentionF32D80;

// fp32 at the largest head dimension: the backward step's lanes hold dK and dV of one key each (4 keys per warp).
[RingAttention(HeadDim = 256, Element = Element.F32, Causal = true, Layout = RingLayout.Striped)]
[Tile(Q = 64, KV = 16), Warps(4)]
public static partial class AttentionF32D256;
