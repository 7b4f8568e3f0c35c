using KernelDsl.Generator.Planning;

namespace KernelDsl.Generator.Emitting.Cuda;

/// <summary>
/// How a warp of the attention step kernel computes: tensor cores (<see cref="AttentionMmaEmitter"/>) or CUDA
/// cores (<see cref="AttentionSimtEmitter"/>). <see cref="CudaAttentionEmitter"/> prints the shared frame
/// (positions, tile visibility, cp.async pipeline, merge) and asks this for the parts in between.
/// </summary>
internal abstract class AttentionWarpEmitter
{
    public static AttentionWarpEmitter For(AttentionPlan plan)
        => plan.Cuda.TensorCores ? new AttentionMmaEmitter(plan) : new AttentionSimtEmitter(plan);

    /// <summary>Which units do the math, for the header.</summary>
    public abstract string Units { get; }

    /// <summary>Header lines on how a warp splits its rows, keys and head dimensions.</summary>
    public abstract void DescribeWarp(CodeWriter w);

    /// <summary>Constants beyond the shared ones.</summary>
    public abstract void Constants(CodeWriter w);

    /// <summary>The <see cref="PtxPrelude"/> groups the warp's math calls, beyond cp.async, ex2 and the conversions.</summary>
    public abstract PtxHelpers PtxHelpers { get; }

    /// <summary>Device functions beyond the shared ones.</summary>
    public abstract void DeviceFunctions(CodeWriter w);

    /// <summary>Per-thread state before the KV loop: O accumulators, running max and sum, row positions.</summary>
    public abstract void DeclareState(CodeWriter w);

    /// <summary>
    /// One visible KV tile, inside <c>if (visible)</c>: S = Q·Kᵀ, scale, mask when <c>masked</c>, online softmax,
    /// O += P·V. In scope: Qs, Ks, Vs, kv0, masked, warp_row0, the position lambdas.
    /// </summary>
    public abstract void AttendTile(CodeWriter w);

    /// <summary>After the loop: normalise, and merge into O_run and L_run with <c>merge_lse</c>.</summary>
    public abstract void Merge(CodeWriter w);
}
