using KernelDsl.Generator.Emitting.Cuda;
using KernelDsl.Generator.Planning;

namespace KernelDsl.Generator.Emitting.Launch;

/// <summary>
/// Prints the GPU entry points of a ring-attention kernel's backward pass on device buffers: <c>LaunchBackwardDelta</c>
/// (D = rowsum(dO ∘ O), once per rank), <c>LaunchBackwardStep</c> (one ring step, adding into fp32 dQ, dK and dV) and
/// <c>LaunchFinalizeGradient</c> (an accumulator in the element type), with <c>CudaBackwardSource</c>. Where the plan
/// has no backward kernel (d too large for dK and dV in registers: 16-bit elements with d > 144) the three throw and say why.
/// </summary>
internal static class AttentionBackwardCudaLaunchEmitter
{
    private const string Cuda = "global::KernelDsl.Cuda";

    public static void Emit(CodeWriter w, AttentionPlan plan)
    {
        string element = GemmSurface.ClrType(plan.Element);
        string buffer = $"{Cuda}.DeviceBuffer<{element}>", floats = $"{Cuda}.DeviceBuffer<float>";
        string shard = "global::KernelDsl.Ring.SequenceShard";
        var b = plan.CudaBackward;
        if (b is not null)
        {
            KernelFile.CudaSource(w, "CudaBackwardSource", "sm_80 or newer", CudaAttentionBackwardEmitter.Emit(plan, b),
                "The backward pass launches its delta kernel once per rank, its step kernel once per ring step and its gradient kernel per gradient at the end.");
            w.Line($"private static {Cuda}.CudaFunction? cudaBackwardStep;");
            w.Line();
            w.Line($"private static {Cuda}.CudaFunction? cudaBackwardDelta;");
            w.Line();
            w.Line($"private static {Cuda}.CudaFunction? cudaBackwardGradient;");
            w.Line();
        }
        int budget = AttentionPlanner.UsesTensorCores(plan.Element) ? CudaAttentionBackwardPlan.LiveValueTarget : CudaAttentionBackwardPlan.SimtLiveValueTarget;
        string unavailable = $"The CUDA backward step keeps dK and dV of a warp's keys in registers: at d = {plan.HeadDim} ({plan.Element}) they are over its budget of {budget} values per thread; use a smaller head dimension or the CPU Backward/AttentionBackward.";

        w.Line("/// <summary>");
        w.Line("/// Queues D = rowsum(dO ∘ O) of every query row on <paramref name=\"stream\"/>, for <see cref=\"LaunchBackwardStep\"/>: once per rank, before its steps.");
        w.Line($"/// <paramref name=\"o\"/> and <paramref name=\"dO\"/> are [heads][queries][{plan.HeadDim}], <paramref name=\"delta\"/> [heads][queries] fp32.");
        w.Line("/// </summary>");
        w.Line("/// <exception cref=\"global::System.ArgumentException\">A count is negative or a buffer too short; the message names it.</exception>");
        w.Line("/// <exception cref=\"global::System.NotSupportedException\">The kernel has no CUDA backward pass (the message says why).</exception>");
        w.Open($"public static void LaunchBackwardDelta({Cuda}.CudaStream stream, {buffer} o, {buffer} dO, {floats} delta, int heads, int queries)");
        if (b is null)
        {
            w.Line($"throw new global::System.NotSupportedException({Literals.String(unavailable)});");
        }
        else
        {
            NullChecks(w, "stream", "o", "dO", "delta");
            w.Line($"{Cuda}.AttentionBackwardLaunch.CheckDelta(Info.HeadDim, o.Length, dO.Length, delta.Length, heads, queries);");
            w.Open("if (heads == 0 || queries == 0)");
            w.Line("return;");
            w.Close();
            w.Line($"const int warps = {CudaAttentionBackwardPlan.DeltaWarps};  // DELTA_WARPS in CudaBackwardSource: one row per warp");
            w.Line($"{Cuda}.CudaFunction function = {Cuda}.AttentionLaunch.Load(ref cudaBackwardDelta, stream.Device, CudaBackwardSource, Info.Backward!.DeltaEntryPoint);");
            w.Line($"{Cuda}.KernelArguments parameters = new {Cuda}.KernelArguments().Add(o).Add(dO).Add(delta).Add(heads * queries);");
            w.Line($"function.Launch(stream, ({Cuda}.AttentionLaunch.GridStrideBlocks(heads * (long)queries, warps), 1, 1), (32 * warps, 1, 1), 0, parameters);");
        }
        w.Close();
        w.Line();

        w.Line("/// <summary>");
        w.Line("/// Queues one backward ring step on <paramref name=\"stream\"/>: this rank's queries against one K/V shard (" + (plan.Causal ? "causal by the shards' global positions" : "every key") + "),");
        w.Line("/// FlashAttention-2's backward with P recomputed from the forward's <paramref name=\"lse\"/>, adding into the fp32 accumulators");
        w.Line("/// <paramref name=\"dQ\"/> (this rank's) and <paramref name=\"dK\"/>, <paramref name=\"dV\"/> (the shard's). Start them at zero, compute");
        w.Line("/// <paramref name=\"delta\"/> with <see cref=\"LaunchBackwardDelta\"/>, call this once per shard, end with <see cref=\"LaunchFinalizeGradient\"/>.");
        w.Line($"/// Q, dO and dQ are [heads][queries][{plan.HeadDim}], K, V, dK and dV [kvHeads][keys][{plan.HeadDim}], lse and delta [heads][queries].");
        w.Line("/// dQ's fp32 sums are atomic adds from the blocks over different keys, so its last bits depend on their order; dK and dV are deterministic,");
        w.Line("/// added by plain read-modify-writes: steps that add into the same dK and dV must run one after another (one stream, or events).");
        w.Line("/// </summary>");
        w.Line("/// <exception cref=\"global::System.ArgumentException\">A count is negative, kvHeads does not divide heads, a shard does not match its count, or a buffer is too short; the message names it.</exception>");
        w.Line("/// <exception cref=\"global::System.NotSupportedException\">The kernel has no CUDA backward pass (the message says why).</exception>");
        w.Open($"public static void LaunchBackwardStep({Cuda}.CudaStream stream, {buffer} q, {buffer} k, {buffer} v, {buffer} dO, {floats} lse, {floats} delta, {floats} dQ, {floats} dK, {floats} dV, int heads, int kvHeads, int queries, int keys, {shard} queryShard, {shard} keyShard)");
        if (b is null)
        {
            w.Line($"throw new global::System.NotSupportedException({Literals.String(unavailable)});");
        }
        else
        {
            NullChecks(w, "stream", "q", "k", "v", "dO", "lse", "delta", "dQ", "dK", "dV");
            w.Line($"{Cuda}.AttentionBackwardLaunch.CheckStep(Info.HeadDim, q.Length, k.Length, v.Length, dO.Length, lse.Length, delta.Length, dQ.Length, dK.Length, dV.Length, heads, kvHeads, queries, keys, queryShard, keyShard);");
            w.Open("if (heads == 0 || queries == 0 || keys == 0)");
            w.Line("return;  // no query or no key: nothing to add");
            w.Close();
            w.Line("global::KernelDsl.AttentionBackwardInfo backward = Info.Backward!;  // set: this class has CudaBackwardSource");
            w.Line($"{Cuda}.CudaFunction function = {Cuda}.AttentionLaunch.Load(ref cudaBackwardStep, stream.Device, CudaBackwardSource, backward.StepEntryPoint);");
            w.Line("(int x, int y) = backward.GridFor(keys, kvHeads);");
            w.Line($"{Cuda}.KernelArguments parameters = {Cuda}.AttentionBackwardLaunch.StepArguments(q, k, v, dO, lse, delta, dQ, dK, dV, heads, kvHeads, queries, keys, queryShard, keyShard);");
            w.Line("function.Launch(stream, (x, y, 1), (backward.Threads, 1, 1), backward.SharedMemoryBytes, parameters);");
        }
        w.Close();
        w.Line();

        w.Line($"/// <summary>Queues <paramref name=\"gradient\"/>[i] ← <paramref name=\"accumulator\"/>[i] in {plan.Element} (round to nearest even) for i &lt; <paramref name=\"count\"/>: once per gradient, after the last step.</summary>");
        w.Line("/// <exception cref=\"global::System.ArgumentException\">The count is negative or a buffer too short.</exception>");
        w.Line("/// <exception cref=\"global::System.NotSupportedException\">The kernel has no CUDA backward pass (the message says why).</exception>");
        w.Open($"public static void LaunchFinalizeGradient({Cuda}.CudaStream stream, {floats} accumulator, {buffer} gradient, int count)");
        if (b is null)
        {
            w.Line($"throw new global::System.NotSupportedException({Literals.String(unavailable)});");
        }
        else
        {
            NullChecks(w, "stream", "accumulator", "gradient");
            w.Line($"{Cuda}.AttentionBackwardLaunch.CheckGradient(accumulator.Length, gradient.Length, count);");
            w.Open("if (count == 0)");
            w.Line("return;");
            w.Close();
            w.Line($"const int threads = {plan.Cuda.FinalizeThreads};  // GRADIENT_THREADS in CudaBackwardSource");
            w.Line($"{Cuda}.CudaFunction function = {Cuda}.AttentionLaunch.Load(ref cudaBackwardGradient, stream.Device, CudaBackwardSource, Info.Backward!.GradientEntryPoint);");
            w.Line($"{Cuda}.KernelArguments parameters = new {Cuda}.KernelArguments().Add(accumulator).Add(gradient).Add(count);");
            w.Line($"function.Launch(stream, ({Cuda}.AttentionLaunch.GridStrideBlocks(count, threads), 1, 1), (threads, 1, 1), 0, parameters);");
        }
        w.Close();
        w.Line();
    }

    private static void NullChecks(CodeWriter w, params string[] names)
    {
        foreach (string name in names)
        {
            w.Line($"global::System.ArgumentNullException.ThrowIfNull({name});");
        }
    }
}
