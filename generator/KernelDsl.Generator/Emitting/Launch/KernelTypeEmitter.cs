using KernelDsl.Generator.Planning;

namespace KernelDsl.Generator.Emitting.Launch;

/// <summary>
/// Prints the nested <c>Kernel</c> struct that makes a kernel class usable as a type argument: a static class cannot
/// implement an interface or be one, so the struct implements <c>IGemmKernel</c> or <c>IAttentionKernel</c> for it.
/// Every member is an explicit implementation, so inside the struct the simple names (<c>Info</c>, <c>RunCpu</c>,
/// <c>Forward</c>, …) still bind to the kernel class's own members, which do the work.
/// </summary>
internal static class KernelTypeEmitter
{
    public const string TypeName = "Kernel";

    private const string Cuda = "global::KernelDsl.Cuda";
    private const string Ring = "global::KernelDsl.Ring";
    private const string CpuIsa = "global::KernelDsl.Cpu.CpuIsa";

    public static void EmitGemm(CodeWriter w, GemmPlan plan)
    {
        string input = GemmSurface.ClrType(plan.Operands.Element), output = GemmSurface.ClrType(plan.Operands.Output);
        string i = $"global::KernelDsl.IGemmKernel<{input}, {output}>";
        string inputSpan = $"global::System.ReadOnlySpan<{input}>", outputSpan = $"global::System.Span<{output}>";
        string inputBuffer = $"{Cuda}.DeviceBuffer<{input}>", outputBuffer = $"{Cuda}.DeviceBuffer<{output}>";
        const string sizes = "int m, int n, int k";

        Open(w, i, "global::KernelDsl.IGemmKernel{TInput, TOutput}");
        w.Line($"static global::KernelDsl.GemmInfo {i}.Info => Info;");
        w.Line($"static string {i}.CudaSource => CudaSource;");
        w.Line($"static string? {i}.CudaSourceSm90a => {(plan.Hopper is null ? "null" : "CudaSourceSm90a")};");
        w.Line($"static void {i}.Run({inputSpan} a, int lda, {inputSpan} b, int ldb, {outputSpan} c, int ldc, {sizes}, global::System.ReadOnlySpan<{output}> bias, float alpha, float beta, {CpuIsa}? isa)");
        w.Line($"    => RunCpu(a, b, c, bias, {GemmSurface.StridedArguments}, isa);");
        w.Line($"static void {i}.Launch({Cuda}.CudaStream stream, {inputBuffer} a, int lda, {inputBuffer} b, int ldb, {outputBuffer} c, int ldc, {sizes}, {outputBuffer}? bias, float alpha, float beta)");
        w.Line($"    => LaunchCuda(stream, a, b, c, bias, {GemmSurface.StridedArguments});");
        w.Line($"static global::KernelDsl.KernelBackend {i}.Compute({inputSpan} a, int lda, {inputSpan} b, int ldb, {outputSpan} c, int ldc, {sizes}, global::System.ReadOnlySpan<{output}> bias, float alpha, float beta, global::KernelDsl.KernelBackend backend)");
        w.Line($"    => ComputeOn(a, b, c, bias, {GemmSurface.StridedArguments}, backend);");
        w.Close();
        w.Line();
    }

    public static void EmitAttention(CodeWriter w, AttentionPlan plan)
    {
        string t = GemmSurface.ClrType(plan.Element);
        string i = $"global::KernelDsl.IAttentionKernel<{t}>";
        string input = $"global::System.ReadOnlySpan<{t}>", output = $"global::System.Span<{t}>", buffer = $"{Cuda}.DeviceBuffer<{t}>";
        string floats = $"{Cuda}.DeviceBuffer<float>";

        Open(w, i, "global::KernelDsl.IAttentionKernel{TElement}");
        w.Line($"static global::KernelDsl.AttentionInfo {i}.Info => Info;");
        w.Line($"static string {i}.CudaSource => CudaSource;");
        w.Line($"static string? {i}.CudaBackwardSource => {(plan.CudaBackward is null ? "null" : "CudaBackwardSource")};");
        w.Line($"static {Ring}.RingAttentionTimings {i}.Forward({Ring}.IRingCommunicator ring, int heads, int kvHeads, int sequenceLength, {input} q, {input} k, {input} v, {output} o, global::System.Span<float> lse, {CpuIsa}? isa)");
        w.Line("    => Forward(ring, heads, kvHeads, sequenceLength, q, k, v, o, lse, isa);");
        w.Line($"static void {i}.ForwardStep(int heads, int kvHeads, int sequenceLength, int ranks, int rank, int sourceRank, {input} q, {input} k, {input} v, global::System.Span<float> runningO, global::System.Span<float> runningLse, {CpuIsa}? isa)");
        w.Line("    => ForwardStep(heads, kvHeads, sequenceLength, ranks, rank, sourceRank, q, k, v, runningO, runningLse, isa);");
        w.Line($"static void {i}.Attention({input} q, {input} k, {input} v, {output} o, global::System.Span<float> lse, int heads, int kvHeads, int sequenceLength, {CpuIsa}? isa)");
        w.Line("    => Attention(q, k, v, o, lse, heads, kvHeads, sequenceLength, isa);");
        string gradients = $"{input} q, {input} k, {input} v, {input} o, global::System.ReadOnlySpan<float> lse, {input} dO, {output} dQ, {output} dK, {output} dV";
        w.Line($"static void {i}.Backward({Ring}.IRingCommunicator ring, int heads, int kvHeads, int sequenceLength, {gradients})");
        w.Line("    => Backward(ring, heads, kvHeads, sequenceLength, q, k, v, o, lse, dO, dQ, dK, dV);");
        w.Line($"static void {i}.BackwardStep(int heads, int kvHeads, int sequenceLength, int ranks, int rank, int sourceRank, {input} q, {input} k, {input} v, {input} dO, global::System.ReadOnlySpan<float> lse, global::System.ReadOnlySpan<float> delta, global::System.Span<float> dQ, global::System.Span<float> dK, global::System.Span<float> dV)");
        w.Line("    => BackwardStep(heads, kvHeads, sequenceLength, ranks, rank, sourceRank, q, k, v, dO, lse, delta, dQ, dK, dV);");
        w.Line($"static void {i}.BackwardDelta({input} o, {input} dO, global::System.Span<float> delta)");
        w.Line("    => BackwardDelta(o, dO, delta);");
        w.Line($"static void {i}.AttentionBackward({gradients}, int heads, int kvHeads, int sequenceLength)");
        w.Line("    => AttentionBackward(q, k, v, o, lse, dO, dQ, dK, dV, heads, kvHeads, sequenceLength);");
        w.Line($"static void {i}.LaunchStep({Cuda}.CudaStream stream, {buffer} q, {buffer} k, {buffer} v, {floats} oRun, {floats} lRun, int heads, int kvHeads, int queries, int keys, {Ring}.SequenceShard queryShard, {Ring}.SequenceShard keyShard)");
        w.Line("    => LaunchStep(stream, q, k, v, oRun, lRun, heads, kvHeads, queries, keys, queryShard, keyShard);");
        w.Line($"static void {i}.LaunchFinalize({Cuda}.CudaStream stream, {floats} oRun, {floats} lRun, {buffer} o, {floats} lse, int heads, int queries)");
        w.Line("    => LaunchFinalize(stream, oRun, lRun, o, lse, heads, queries);");
        w.Line($"static void {i}.LaunchBackwardDelta({Cuda}.CudaStream stream, {buffer} o, {buffer} dO, {floats} delta, int heads, int queries)");
        w.Line("    => LaunchBackwardDelta(stream, o, dO, delta, heads, queries);");
        w.Line($"static void {i}.LaunchBackwardStep({Cuda}.CudaStream stream, {buffer} q, {buffer} k, {buffer} v, {buffer} dO, {floats} lse, {floats} delta, {floats} dQ, {floats} dK, {floats} dV, int heads, int kvHeads, int queries, int keys, {Ring}.SequenceShard queryShard, {Ring}.SequenceShard keyShard)");
        w.Line("    => LaunchBackwardStep(stream, q, k, v, dO, lse, delta, dQ, dK, dV, heads, kvHeads, queries, keys, queryShard, keyShard);");
        w.Line($"static void {i}.LaunchFinalizeGradient({Cuda}.CudaStream stream, {floats} accumulator, {buffer} gradient, int count)");
        w.Line("    => LaunchFinalizeGradient(stream, accumulator, gradient, count);");
        w.Close();
        w.Line();
    }

    private static void Open(CodeWriter w, string implemented, string cref)
    {
        w.Line("/// <summary>");
        w.Line($"/// This kernel as a type argument for generic code (<see cref=\"{cref}\"/>): every member forwards to the kernel's own.");
        w.Line("/// </summary>");
        w.Open($"public readonly struct {TypeName} : {implemented}");
    }
}
