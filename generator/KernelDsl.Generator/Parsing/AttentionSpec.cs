using KernelDsl.Generator.Model;

namespace KernelDsl.Generator.Parsing;

/// <summary>
/// What the user wrote on one [RingAttention] class, as plain data, defaults applied, each attribute
/// with its location. Checked by <c>AttentionValidator</c>.
/// </summary>
/// <param name="Scale">Softmax scale as written; 0 means 1/√HeadDim.</param>
/// <param name="WarpsN">Warps along N as written; attention uses one dimension of warps, so it must be 1.</param>
internal sealed record AttentionSpec(
    KernelIdentity Kernel,
    KernelClassShape Shape,
    LocationInfo? ClassLocation,
    int HeadDim,
    Element Element,
    bool Causal,
    float Scale,
    RingLayout Layout,
    LocationInfo? AttentionLocation,
    int TileQ,
    int TileKv,
    int Warps,
    int WarpsN,
    LocationInfo? WarpsLocation,
    int Buffers,
    LocationInfo? OverlapLocation,
    KernelAttributes Attributes);
