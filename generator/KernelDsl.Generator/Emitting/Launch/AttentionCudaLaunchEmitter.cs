using KernelDsl.Generator.Emitting.Cuda;
using KernelDsl.Generator.Planning;

namespace KernelDsl.Generator.Emitting.Launch;

/// <summary>
/// Prints the GPU entry points of a ring-attention kernel on device buffers: <c>LaunchStep</c> (one ring step:
/// the Q shard against one KV shard, merged into the running O and L) and <c>LaunchFinalize</c> (O in the element
/// type and L after the last step). Grid, block and shared memory come from <c>Info</c>, i.e. from the plan.
/// </summary>
internal static class AttentionCudaLaunchEmitter
{
    private const string Cuda = "global::KernelDsl.Cuda";

    public static void Emit(CodeWriter w, AttentionPlan plan)
    {
        string element = GemmSurface.ClrType(plan.Element);
        string buffer = $"{Cuda}.DeviceBuffer<{element}>", floats = $"{Cuda}.DeviceBuffer<float>";
        string shard = "global::KernelDsl.Ring.SequenceShard";

        w.Line($"private static {Cuda}.CudaFunction? cudaStep;");
        w.Line();
        w.Line($"private static {Cuda}.CudaFunction? cudaFinalize;");
        w.Line();
        w.Line("/// <summary>");
        w.Line("/// Queues one ring step on <paramref name=\"stream\"/>: this rank's queries attend to one K/V shard");
        w.Line("/// (" + (plan.Causal ? "causal by the shards' global positions" : "every key") + ") and the result is merged into the running fp32");
        w.Line("/// state, which <see cref=\"global::KernelDsl.Cuda.AttentionLaunch.InitializeRunningState\"/> sets before the first step.");
        w.Line($"/// Q is [heads][queries][{plan.HeadDim}], K and V [kvHeads][keys][{plan.HeadDim}], <paramref name=\"oRun\"/> [heads][queries][{plan.HeadDim}] and");
        w.Line("/// <paramref name=\"lRun\"/> [heads][queries], row-major in device memory; query head h reads K/V head h / (heads / kvHeads).");
        w.Line("/// The first call compiles <see cref=\"CudaSource\"/> with NVRTC for the device (cached in memory and on disk).");
        w.Line("/// </summary>");
        w.Line("/// <param name=\"queryShard\">Global positions of the queries (LocalLength = <paramref name=\"queries\"/>).</param>");
        w.Line("/// <param name=\"keyShard\">Global positions of the keys (LocalLength = <paramref name=\"keys\"/>).</param>");
        w.Line("/// <exception cref=\"global::System.ArgumentException\">A count is negative, kvHeads does not divide heads, a shard does not match its count, or a buffer is too short; the message names it.</exception>");
        w.Open($"public static void LaunchStep({Cuda}.CudaStream stream, {buffer} q, {buffer} k, {buffer} v, {floats} oRun, {floats} lRun, int heads, int kvHeads, int queries, int keys, {shard} queryShard, {shard} keyShard)");
        w.Line("global::System.ArgumentNullException.ThrowIfNull(stream);");
        foreach (string name in new[] { "q", "k", "v", "oRun", "lRun" })
        {
            w.Line($"global::System.ArgumentNullException.ThrowIfNull({name});");
        }
        w.Line($"{Cuda}.AttentionLaunch.CheckStep(Info.HeadDim, q.Length, k.Length, v.Length, oRun.Length, lRun.Length, heads, kvHeads, queries, keys, queryShard, keyShard);");
        w.Open("if (heads == 0 || queries == 0 || keys == 0)");
        w.Line("return;  // no query or no key: the running state stays as it is");
        w.Close();
        w.Line($"{Cuda}.CudaFunction function = {Cuda}.AttentionLaunch.Load(ref cudaStep, stream.Device, CudaSource, StepEntryPoint);");
        w.Line("(int x, int y) = Info.GridFor(queries, heads);");
        w.Line($"{Cuda}.KernelArguments parameters = {Cuda}.AttentionLaunch.StepArguments(q, k, v, oRun, lRun, heads, kvHeads, queries, keys, queryShard, keyShard);");
        w.Line("function.Launch(stream, (x, y, 1), (Info.Threads, 1, 1), Info.SharedMemoryBytes, parameters);");
        w.Close();
        w.Line();
        w.Line("/// <summary>");
        w.Line($"/// Queues the end of a ring on <paramref name=\"stream\"/>: <paramref name=\"o\"/> [heads][queries][{plan.HeadDim}] ← the running O in {plan.Element},");
        w.Line("/// <paramref name=\"lse\"/> [heads][queries] ← the running L (natural log; −∞ for a row that saw no key, whose O is 0).");
        w.Line("/// </summary>");
        w.Line("/// <exception cref=\"global::System.ArgumentException\">A count is negative or a buffer too short; the message names it.</exception>");
        w.Open($"public static void LaunchFinalize({Cuda}.CudaStream stream, {floats} oRun, {floats} lRun, {buffer} o, {floats} lse, int heads, int queries)");
        w.Line("global::System.ArgumentNullException.ThrowIfNull(stream);");
        foreach (string name in new[] { "oRun", "lRun", "o", "lse" })
        {
            w.Line($"global::System.ArgumentNullException.ThrowIfNull({name});");
        }
        w.Line($"{Cuda}.AttentionLaunch.CheckFinalize(Info.HeadDim, oRun.Length, lRun.Length, o.Length, lse.Length, heads, queries);");
        w.Open("if (heads == 0 || queries == 0)");
        w.Line("return;");
        w.Close();
        w.Line($"const int threads = {plan.Cuda.FinalizeThreads};  // FINALIZE_THREADS in CudaSource");
        w.Line($"{Cuda}.CudaFunction function = {Cuda}.AttentionLaunch.Load(ref cudaFinalize, stream.Device, CudaSource, FinalizeEntryPoint);");
        w.Line($"int blocks = {Cuda}.AttentionLaunch.FinalizeBlocks(heads * queries, Info.HeadDim, threads);");
        w.Line($"{Cuda}.KernelArguments parameters = new {Cuda}.KernelArguments().Add(oRun).Add(lRun).Add(o).Add(lse).Add(heads * queries);");
        w.Line("function.Launch(stream, (blocks, 1, 1), (threads, 1, 1), 0, parameters);");
        w.Close();
        w.Line();
    }
}
