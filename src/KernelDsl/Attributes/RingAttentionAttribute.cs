using System;
using KernelDsl.Ring;

namespace KernelDsl;

/// <summary>
/// Declares a fused ring-attention kernel on a <c>static partial class</c>: FlashAttention-2 style
/// blocks (online softmax, fp32 running max and sum) whose output and log-sum-exp are merged exactly
/// across ring steps while K/V shards rotate around the ranks. The generator adds <c>Forward</c>
/// (the whole ring), <c>ForwardStep</c> (one step, for your own schedule), <c>CudaSource</c> and
/// <c>Info</c>. Combine with <see cref="TileAttribute"/> (Q, KV), <see cref="WarpsAttribute"/> and
/// <see cref="OverlapAttribute"/>.
/// </summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false, Inherited = false)]
public sealed class RingAttentionAttribute : Attribute
{
    /// <summary>Head dimension d: a multiple of 16, at most 256.</summary>
    public int HeadDim { get; set; } = 128;

    /// <summary>Element type of Q, K, V and O (F32 on CUDA cores; F16/BF16 on tensor cores). Accumulation is fp32.</summary>
    public Element Element { get; set; } = Element.F32;

    /// <summary>Causal masking by global sequence position: a query sees keys at or before its own position.</summary>
    public bool Causal { get; set; }

    /// <summary>Softmax scale applied to Q·Kᵀ; 0 (default) means 1/√HeadDim.</summary>
    public float Scale { get; set; }

    /// <summary>How the sequence is split over the ranks; <see cref="RingLayout.Zigzag"/> balances causal work.</summary>
    public RingLayout Layout { get; set; } = RingLayout.Contiguous;
}
