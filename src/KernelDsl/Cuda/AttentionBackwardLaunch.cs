using System;
using System.Globalization;
using KernelDsl.Ring;

namespace KernelDsl.Cuda;

/// <summary>
/// What every generated <c>LaunchBackwardStep</c>, <c>LaunchBackwardDelta</c> and <c>LaunchFinalizeGradient</c> need
/// beyond the kernels: argument checks, the step's kernel arguments and the grids of the row-wise kernels.
/// </summary>
/// <remarks>
/// Layouts as in <see cref="AttentionLaunch"/>: Q, O, dO and the fp32 dQ accumulator [heads][queries][d], K, V and the
/// fp32 dK, dV accumulators [kvHeads][keys][d], L and D [heads][queries], row-major, dense from the buffer's start.
/// </remarks>
public static class AttentionBackwardLaunch
{
    /// <summary>
    /// Throws unless the arguments describe one backward step: the checks every step makes of Q, K, V and the shards,
    /// dO, dQ as long as Q, dK and dV as long as K, L and D one value per query row.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">A count is negative, or <paramref name="kvHeads"/> is below 1.</exception>
    /// <exception cref="ArgumentException">GQA heads do not divide, a shard does not match its row count, or a buffer is too short.</exception>
    public static void CheckStep(
        int headDim, int qLength, int kLength, int vLength, int dOLength, int lseLength, int deltaLength, int dQLength, int dKLength, int dVLength,
        int heads, int kvHeads, int queries, int keys, SequenceShard queryShard, SequenceShard keyShard)
    {
        AttentionLaunch.CheckQueriesAndKeys(headDim, qLength, kLength, vLength, heads, kvHeads, queries, keys, queryShard, keyShard);
        long queryValues = (long)heads * queries * headDim, keyValues = (long)kvHeads * keys * headDim, rows = (long)heads * queries;
        AttentionLaunch.CheckLength(dQLength, queryValues, "dQ", $"the dQ accumulator as [heads = {heads}][queries = {queries}][d = {headDim}]");
        AttentionLaunch.CheckLength(lseLength, rows, "lse", $"L as [heads = {heads}][queries = {queries}]");
        AttentionLaunch.CheckLength(dOLength, queryValues, "dO", $"dO as [heads = {heads}][queries = {queries}][d = {headDim}]");
        AttentionLaunch.CheckLength(deltaLength, rows, "delta", $"D as [heads = {heads}][queries = {queries}]");
        AttentionLaunch.CheckLength(dKLength, keyValues, "dK", $"the dK accumulator as [kvHeads = {kvHeads}][keys = {keys}][d = {headDim}]");
        AttentionLaunch.CheckLength(dVLength, keyValues, "dV", $"the dV accumulator as [kvHeads = {kvHeads}][keys = {keys}][d = {headDim}]");
    }

    /// <summary>Throws unless O, dO and D hold <paramref name="heads"/> × <paramref name="queries"/> rows.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A count is negative.</exception>
    /// <exception cref="ArgumentException">A buffer is too short.</exception>
    public static void CheckDelta(int headDim, int oLength, int dOLength, int deltaLength, int heads, int queries)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(heads);
        ArgumentOutOfRangeException.ThrowIfNegative(queries);
        long values = (long)heads * queries * headDim;
        AttentionLaunch.CheckLength(oLength, values, "o", $"O as [heads = {heads}][queries = {queries}][d = {headDim}]");
        AttentionLaunch.CheckLength(dOLength, values, "dO", $"dO as [heads = {heads}][queries = {queries}][d = {headDim}]");
        AttentionLaunch.CheckLength(deltaLength, (long)heads * queries, "delta", $"D as [heads = {heads}][queries = {queries}]");
    }

    /// <summary>Throws unless both buffers hold <paramref name="count"/> values.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="count"/> is negative.</exception>
    /// <exception cref="ArgumentException">A buffer is too short.</exception>
    public static void CheckGradient(int accumulatorLength, int gradientLength, int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        AttentionLaunch.CheckLength(accumulatorLength, count, "accumulator", $"{count} values");
        AttentionLaunch.CheckLength(gradientLength, count, "gradient", $"{count} values");
    }

    /// <summary>
    /// The backward step kernel's parameters in signature order: Q, K, V, dO, L, D, dQ, dK, dV, heads, kv_heads, sq, skv,
    /// then each shard's positions as in <see cref="AttentionLaunch.StepArguments"/>.
    /// </summary>
    public static KernelArguments StepArguments<T>(
        DeviceBuffer<T> q, DeviceBuffer<T> k, DeviceBuffer<T> v, DeviceBuffer<T> dO, DeviceBuffer<float> lse, DeviceBuffer<float> delta,
        DeviceBuffer<float> dQ, DeviceBuffer<float> dK, DeviceBuffer<float> dV,
        int heads, int kvHeads, int queries, int keys, SequenceShard queryShard, SequenceShard keyShard)
        where T : unmanaged
    {
        var arguments = new KernelArguments().Add(q).Add(k).Add(v).Add(dO).Add(lse).Add(delta).Add(dQ).Add(dK).Add(dV)
            .Add(heads).Add(kvHeads).Add(queries).Add(keys);
        AttentionLaunch.AddPositions(arguments, queryShard);
        AttentionLaunch.AddPositions(arguments, keyShard);
        return arguments;
    }
}
