using KernelDsl.Generator.Planning;

namespace KernelDsl.Generator.Emitting.Cuda;

/// <summary>
/// How a warp of the backward step kernel computes: tensor cores (<see cref="AttentionBackwardMmaEmitter"/>) or CUDA
/// cores (<see cref="AttentionBackwardSimtEmitter"/>). <see cref="CudaAttentionBackwardEmitter"/> prints the shared frame
/// (the block's keys, the causal tile range, the Q/dO pipeline, the warp's visibility and masking) and asks this for the
/// parts in between.
/// </summary>
internal abstract class AttentionBackwardWarpEmitter
{
    public static AttentionBackwardWarpEmitter For(AttentionPlan plan, CudaAttentionBackwardPlan backward)
        => backward.TensorCores ? new AttentionBackwardMmaEmitter(plan) : new AttentionBackwardSimtEmitter(backward);

    /// <summary>Which units do the math, for the header.</summary>
    public abstract string Units { get; }

    /// <summary>Header lines on how a warp computes a query tile and how the block adds dQ.</summary>
    public abstract void DescribeWarp(CodeWriter w);

    /// <summary>Constants beyond the shared ones.</summary>
    public abstract void Constants(CodeWriter w);

    /// <summary>The <see cref="PtxPrelude"/> groups the warp's math calls, beyond cp.async, ex2 and the conversions.</summary>
    public abstract PtxHelpers PtxHelpers { get; }

    /// <summary>Device functions beyond the shared ones.</summary>
    public abstract void DeviceFunctions(CodeWriter w);

    /// <summary>
    /// Per-thread state before the query loop: dK and dV accumulators of the lane's part of the warp's keys, and
    /// <c>key_pos</c>, those keys' global positions (−1 past skv). In scope: warp_key0, kv_rows, kv0, the position lambdas.
    /// </summary>
    public abstract void DeclareState(CodeWriter w);

    /// <summary>
    /// One query tile the warp's keys see, inside <c>if (visible)</c>: Sᵀ, dPᵀ, Pᵀ, dSᵀ (masked per element when
    /// <c>masked</c>), dV += Pᵀ·dO, dK += dSᵀ·Q, and the warp's dSᵀ rows into dSt. In scope: Qs, dOs, Ls, Ds, q0, masked.
    /// </summary>
    public abstract void TileMath(CodeWriter w);

    /// <summary>The <c>else</c> of <see cref="TileMath"/>: the warp's dSᵀ rows in dSt set to zero.</summary>
    public abstract void ZeroDs(CodeWriter w);

    /// <summary>After the barrier that completes dSt: dQ += scale·dS·K for the tile's rows below q_rows, atomically.</summary>
    public abstract void AddDq(CodeWriter w);

    /// <summary>After the query loop: the warp's scaled dK and its dV added into the shard's rows below kv_rows.</summary>
    public abstract void AddKeyGradients(CodeWriter w);
}
