using System;
using System.Globalization;
using KernelDsl.Ring;

namespace KernelDsl.Cuda;

/// <summary>
/// What every generated ring-attention <c>LaunchStep</c> and <c>LaunchFinalize</c> need beyond the kernels:
/// loading the compiled functions once, argument checks, the shard positions as kernel arguments, the finalize
/// grid, and the initial running state. Used by generated code; <see cref="InitializeRunningState"/> also by callers.
/// </summary>
/// <remarks>
/// Layouts (row-major, dense from the start of each buffer): Q and O are [heads][queries][d], K and V
/// [kvHeads][keys][d], the running O [heads][queries][d] fp32 and the running L and the output L [heads][queries].
/// A buffer may be longer than its tensor (exchange buffers sized for the longest shard); only the front is used.
/// </remarks>
public static class AttentionLaunch
{
    /// <summary>
    /// A kernel of the ring step compiled for <paramref name="device"/>, loaded on first use and kept in <paramref name="cached"/>
    /// (sm_80 or newer: cp.async, and mma.sync on the 16-bit path).
    /// </summary>
    /// <exception cref="NotSupportedException">The device is older than sm_80.</exception>
    public static CudaFunction Load(ref CudaFunction? cached, CudaDevice device, string source, string entryPoint)
        => GemmLaunch.Load(ref cached, device, source, entryPoint);

    /// <summary>
    /// Sets the running state of a ring to "no key seen": O_run = 0, L_run = −∞. The fills are issued on the legacy
    /// default stream, which <see cref="CudaStream"/>s (blocking streams) are ordered with, so a later launch on any of
    /// them sees the filled buffers.
    /// </summary>
    /// <param name="oRun">Running outputs, fp32.</param>
    /// <param name="lRun">Running log-sum-exps, fp32.</param>
    public static void InitializeRunningState(DeviceBuffer<float> oRun, DeviceBuffer<float> lRun)
    {
        ArgumentNullException.ThrowIfNull(oRun);
        ArgumentNullException.ThrowIfNull(lRun);
        oRun.Fill(0f);
        lRun.Fill(float.NegativeInfinity);
    }

    /// <summary>
    /// Throws unless the arguments describe one ring step: sizes non-negative, <paramref name="kvHeads"/> ≥ 1 dividing
    /// <paramref name="heads"/>, each shard holding exactly its row count (at most two segments), and every buffer long
    /// enough. <see cref="ArgumentException.ParamName"/> names the generated <c>LaunchStep</c> parameter at fault.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">A count is negative, or <paramref name="kvHeads"/> is below 1.</exception>
    /// <exception cref="ArgumentException">GQA heads do not divide, a shard does not match its row count, or a buffer is too short.</exception>
    public static void CheckStep(
        int headDim, int qLength, int kLength, int vLength, int oRunLength, int lRunLength,
        int heads, int kvHeads, int queries, int keys, SequenceShard queryShard, SequenceShard keyShard)
    {
        CheckQueriesAndKeys(headDim, qLength, kLength, vLength, heads, kvHeads, queries, keys, queryShard, keyShard);
        CheckLength(oRunLength, (long)heads * queries * headDim, "oRun", $"the running O as [heads = {heads}][queries = {queries}][d = {headDim}]");
        CheckLength(lRunLength, (long)heads * queries, "lRun", $"the running L as [heads = {heads}][queries = {queries}]");
    }

    /// <summary>
    /// The checks every step (forward or backward) shares: sizes, GQA heads, both shards against their row counts, and
    /// Q, K, V long enough; the caller checks its own state buffers after these.
    /// </summary>
    internal static void CheckQueriesAndKeys(
        int headDim, int qLength, int kLength, int vLength, int heads, int kvHeads, int queries, int keys, SequenceShard queryShard, SequenceShard keyShard)
    {
        ArgumentNullException.ThrowIfNull(queryShard);
        ArgumentNullException.ThrowIfNull(keyShard);
        CheckHeads(heads, kvHeads);
        ArgumentOutOfRangeException.ThrowIfNegative(queries);
        ArgumentOutOfRangeException.ThrowIfNegative(keys);
        CheckShard(queryShard, queries, nameof(queries), nameof(queryShard));
        CheckShard(keyShard, keys, nameof(keys), nameof(keyShard));
        long queryValues = (long)heads * queries * headDim, keyValues = (long)kvHeads * keys * headDim;
        CheckLength(qLength, queryValues, "q", $"Q as [heads = {heads}][queries = {queries}][d = {headDim}]");
        CheckLength(kLength, keyValues, "k", $"K as [kvHeads = {kvHeads}][keys = {keys}][d = {headDim}]");
        CheckLength(vLength, keyValues, "v", $"V as [kvHeads = {kvHeads}][keys = {keys}][d = {headDim}]");
    }

    /// <summary>Throws unless the finalize arguments fit: sizes non-negative and every buffer long enough.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A count is negative.</exception>
    /// <exception cref="ArgumentException">A buffer is too short; the message and the parameter name say which.</exception>
    public static void CheckFinalize(int headDim, int oRunLength, int lRunLength, int oLength, int lseLength, int heads, int queries)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(heads);
        ArgumentOutOfRangeException.ThrowIfNegative(queries);
        long values = (long)heads * queries * headDim, rows = (long)heads * queries;
        CheckLength(oRunLength, values, "oRun", $"the running O as [heads = {heads}][queries = {queries}][d = {headDim}]");
        CheckLength(lRunLength, rows, "lRun", $"the running L as [heads = {heads}][queries = {queries}]");
        CheckLength(oLength, values, "o", $"O as [heads = {heads}][queries = {queries}][d = {headDim}]");
        CheckLength(lseLength, rows, "lse", $"L as [heads = {heads}][queries = {queries}]");
    }

    /// <summary>
    /// The step kernel's parameters in signature order: Q, K, V, O_run, L_run, heads, kv_heads, sq, skv, then each
    /// shard's positions as start0, len0, stride0, start1, stride1 (local row i &lt; len0 is at start0 + i·stride0, a
    /// later one at start1 + (i − len0)·stride1; a one-segment shard passes its length as len0).
    /// </summary>
    public static KernelArguments StepArguments<T>(
        DeviceBuffer<T> q, DeviceBuffer<T> k, DeviceBuffer<T> v, DeviceBuffer<float> oRun, DeviceBuffer<float> lRun,
        int heads, int kvHeads, int queries, int keys, SequenceShard queryShard, SequenceShard keyShard)
        where T : unmanaged
    {
        var arguments = new KernelArguments().Add(q).Add(k).Add(v).Add(oRun).Add(lRun).Add(heads).Add(kvHeads).Add(queries).Add(keys);
        AddPositions(arguments, queryShard);
        AddPositions(arguments, keyShard);
        return arguments;
    }

    /// <summary>Blocks of the finalize kernel for <paramref name="rows"/> rows of <paramref name="headDim"/> values, 4 values per thread (a grid-stride loop covers the rest).</summary>
    /// <param name="rows">heads · queries (≥ 1).</param>
    /// <param name="headDim">Values per row, a multiple of 4.</param>
    /// <param name="threads">Threads per finalize block.</param>
    public static int FinalizeBlocks(int rows, int headDim, int threads) => GridStrideBlocks((long)rows * headDim / 4, threads);

    /// <summary>
    /// Blocks of a grid-stride kernel over <paramref name="items"/> items, <paramref name="perBlock"/> per block and pass:
    /// enough for one pass, at least 1, at most 65,536 (the kernel loops over the rest).
    /// </summary>
    public static int GridStrideBlocks(long items, int perBlock) => (int)Math.Clamp((items + perBlock - 1) / perBlock, 1, 65536);

    internal static void AddPositions(KernelArguments arguments, SequenceShard shard)
    {
        ArgumentNullException.ThrowIfNull(shard);
        var segments = shard.Segments;
        var first = segments.Length > 0 ? segments[0] : new SequenceSegment(0, 0, 1);
        var second = segments.Length > 1 ? segments[1] : new SequenceSegment(0, 0, 1);
        arguments.Add(first.Start).Add(first.Length).Add(first.Stride).Add(second.Start).Add(second.Stride);
    }

    private static void CheckHeads(int heads, int kvHeads)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(heads);
        ArgumentOutOfRangeException.ThrowIfLessThan(kvHeads, 1);
        if (heads % kvHeads != 0)
        {
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
                $"kvHeads = {kvHeads} must divide heads = {heads}: query head h reads K/V head h / (heads / kvHeads)."), nameof(kvHeads));
        }
    }

    private static void CheckShard(SequenceShard shard, int rows, string rowsName, string shardName)
    {
        if (shard.LocalLength != rows)
        {
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
                $"The shard ({shard}) holds {shard.LocalLength} tokens but {rowsName} = {rows}."), shardName);
        }
        if (shard.Segments.Length > 2)
        {
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
                $"The kernel reads at most two segments of positions; the shard ({shard}) has {shard.Segments.Length}."), shardName);
        }
    }

    internal static void CheckLength(int length, long needed, string name, string what)
    {
        if (length < needed)
        {
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
                $"{name} holds {length} elements; {what} needs {needed}."), name);
        }
    }
}
