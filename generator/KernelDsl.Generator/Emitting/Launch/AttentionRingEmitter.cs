using KernelDsl.Generator.Emitting.Simd;
using KernelDsl.Generator.Model;
using KernelDsl.Generator.Planning;

namespace KernelDsl.Generator.Emitting.Launch;

/// <summary>
/// Prints the public CPU entry points of a ring-attention kernel: <c>Forward</c> (the whole ring on this rank),
/// <c>ForwardStep</c> with <c>InitializeState</c> and <c>Finalize</c> (one step at a time, for callers that
/// drive their own schedule), <c>Attention</c> (one device, no ring) and <c>Shard</c> (which positions a rank
/// holds). Each hands the runtime's <c>global::KernelDsl.Ring.CpuRingAttention</c> the kernel's <c>CpuScores</c> and
/// options built from the plan.
/// </summary>
internal static class AttentionRingEmitter
{
    private const string Ring = "global::KernelDsl.Ring";
    private const string CpuIsa = "global::KernelDsl.Cpu.CpuIsa";
    private const string Scores = AttentionScoresEmitter.TypeName;

    public static void Emit(CodeWriter w, AttentionPlan plan)
    {
        string t = GemmSurface.ClrType(plan.Element);
        string input = $"global::System.ReadOnlySpan<{t}>";
        string output = $"global::System.Span<{t}>";
        string d = Literals.Int(plan.HeadDim);
        string element = CpuElements.Describe(plan.Element);
        string mask = plan.Causal ? "causal (a query sees the keys at or before its global position)" : "not masked";
        string isaDoc = "/// <param name=\"isa\">Forces the vector width of the CPU block kernel (tests, comparisons); null picks the widest one this machine accelerates (<see cref=\"global::KernelDsl.Cpu.CpuFeatures.Best\"/>). A width the machine does not accelerate still gives the same result, slowly (emulated).</param>";
        string kvHeadsDoc = "/// <param name=\"kvHeads\">K/V heads, dividing <paramref name=\"heads\"/>: query head h reads K/V head h / (heads / kvHeads) (grouped-query attention; kvHeads = heads is multi-head attention).</param>";
        string shardsDoc = $"/// The sequence of S tokens is split over the ranks by the {plan.Layout} layout (<see cref=\"Shard\"/> gives the global positions a rank holds); each rank passes its own shard's rows, in local order.";

        w.Line("/// <summary>");
        w.Line($"/// The global positions rank <paramref name=\"rank\"/> of <paramref name=\"ranks\"/> holds under this kernel's {plan.Layout} layout: local row i");
        w.Line("/// of every head of its q, k, v, o and lse is the token at <see cref=\"global::KernelDsl.Ring.SequenceShard.GlobalPosition\"/>(i).");
        w.Line("/// </summary>");
        w.Line("/// <param name=\"sequenceLength\">Global sequence length S (≥ 0).</param>");
        w.Line("/// <param name=\"ranks\">Number of ranks P (≥ 1).</param>");
        w.Line("/// <param name=\"rank\">The rank, 0 ≤ rank &lt; P.</param>");
        w.Line("/// <returns>The rank's shard; its <see cref=\"global::KernelDsl.Ring.SequenceShard.LocalLength\"/> is the Sq of its tensors.</returns>");
        w.Line($"public static {Ring}.SequenceShard Shard(int sequenceLength, int ranks, int rank)");
        w.Line($"    => {Ring}.SequenceShard.For({Ring}.RingLayout.{plan.Layout}, sequenceLength, ranks, rank);");
        w.Line();

        w.Line("/// <summary>");
        w.Line($"/// Ring attention forward on this rank, on the CPU: O = softmax(scale·Q·Kᵀ)·V, {mask}, for this rank's queries over the");
        w.Line("/// whole sequence, while the K/V shards travel round the ring (rank → rank + 1)");
        w.Line(plan.Buffers == 2
            ? "/// with the transfer of the next shard overlapped with the compute of the current one (Overlap(Buffers = 2))."
            : "/// computing each shard, then exchanging (Overlap(Buffers = 1): no overlap).");
        w.Line("/// Every rank of the ring calls it at the same time with the same heads, kvHeads and sequenceLength.");
        w.Line(shardsDoc);
        w.Line($"/// Elements are {element}; all math is fp32 (FlashAttention-2 blocks, partials merged exactly in fp32).");
        w.Line("/// </summary>");
        w.Line("/// <param name=\"ring\">This rank's communicator (e.g. from <see cref=\"global::KernelDsl.Ring.InProcessRing.Create\"/>).</param>");
        w.Line("/// <param name=\"heads\">Query heads (≥ 1).</param>");
        w.Line(kvHeadsDoc);
        w.Line("/// <param name=\"sequenceLength\">Global sequence length S over all ranks.</param>");
        w.Line($"/// <param name=\"q\">This rank's queries, [heads, Sq, {d}] row-major, Sq = <see cref=\"Shard\"/>(S, P, rank).LocalLength.</param>");
        w.Line($"/// <param name=\"k\">This rank's keys, [kvHeads, Sq, {d}] row-major.</param>");
        w.Line($"/// <param name=\"v\">This rank's values, [kvHeads, Sq, {d}] row-major.</param>");
        w.Line($"/// <param name=\"o\">Output for this rank's queries, [heads, Sq, {d}] row-major; a query that sees no key gets 0.</param>");
        w.Line("/// <param name=\"lse\">Output log-sum-exp ln Σ_j e^{scale·q·k_j} (natural log), [heads, Sq]; −∞ for a query that sees no key.</param>");
        w.Line(isaDoc);
        w.Line("/// <returns>This rank's compute and communication time per step.</returns>");
        w.Line("/// <exception cref=\"global::System.ArgumentException\">A size is invalid or a span's length does not match it; the message names it.</exception>");
        w.Line("/// <exception cref=\"global::KernelDsl.Ring.RingCommunicationException\">The ring failed or timed out.</exception>");
        w.Line("/// <exception cref=\"global::KernelDsl.Ring.RingConfigurationException\">The rank before this one was called with other sizes, options or element type (found before any K/V moves).</exception>");
        w.Open($"public static {Ring}.RingAttentionTimings Forward({Ring}.IRingCommunicator ring, int heads, int kvHeads, int sequenceLength, {input} q, {input} k, {input} v, {output} o, global::System.Span<float> lse, {CpuIsa}? isa = null)");
        w.Line($"{Ring}.RingAttentionOptions options = RingOptions(heads, kvHeads, sequenceLength);");
        w.Line($"return {Ring}.CpuRingAttention.Forward<{Scores}, {t}>(ring, options, q, k, v, o, lse, isa);");
        w.Close();
        w.Line();

        w.Line("/// <summary>");
        w.Line("/// One ring step, for callers that drive their own schedule: attends the queries of <paramref name=\"rank\"/> to the K/V shard");
        w.Line("/// of <paramref name=\"sourceRank\"/> and merges the result exactly into the caller's fp32 running state. Start the state with");
        w.Line("/// <see cref=\"InitializeState\"/>, call this once per shard (any order: the merge is exact), end with <see cref=\"Finalize\"/>.");
        w.Line($"/// A shard with no key visible to any of the queries ({(plan.Causal ? "a later one, under the causal mask" : "none, without a mask")}) leaves the state unchanged.");
        w.Line(shardsDoc);
        w.Line("/// </summary>");
        w.Line("/// <param name=\"heads\">Query heads (≥ 1).</param>");
        w.Line(kvHeadsDoc);
        w.Line("/// <param name=\"sequenceLength\">Global sequence length S over all ranks.</param>");
        w.Line("/// <param name=\"ranks\">Number of ranks P the sequence is split over.</param>");
        w.Line("/// <param name=\"rank\">The rank whose queries <paramref name=\"q\"/> are.</param>");
        w.Line("/// <param name=\"sourceRank\">The rank whose K/V shard <paramref name=\"k\"/> and <paramref name=\"v\"/> are.</param>");
        w.Line($"/// <param name=\"q\">Queries of <paramref name=\"rank\"/>, [heads, Sq, {d}] row-major.</param>");
        w.Line($"/// <param name=\"k\">Keys of <paramref name=\"sourceRank\"/>, [kvHeads, Skv, {d}] row-major, Skv = <see cref=\"Shard\"/>(S, P, sourceRank).LocalLength.</param>");
        w.Line($"/// <param name=\"v\">Values of <paramref name=\"sourceRank\"/>, [kvHeads, Skv, {d}] row-major.</param>");
        w.Line($"/// <param name=\"runningO\">Running normalised output, [heads, Sq, {d}], updated in place.</param>");
        w.Line("/// <param name=\"runningLse\">Running log-sum-exp (natural log), [heads, Sq], updated in place.</param>");
        w.Line(isaDoc);
        w.Line("/// <exception cref=\"global::System.ArgumentException\">A size is invalid or a span's length does not match it.</exception>");
        w.Line("/// <exception cref=\"global::System.ArgumentOutOfRangeException\">A rank is out of range.</exception>");
        w.Open($"public static void ForwardStep(int heads, int kvHeads, int sequenceLength, int ranks, int rank, int sourceRank, {input} q, {input} k, {input} v, global::System.Span<float> runningO, global::System.Span<float> runningLse, {CpuIsa}? isa = null)");
        w.Line($"{Ring}.RingAttentionOptions options = RingOptions(heads, kvHeads, sequenceLength);");
        w.Line($"{Ring}.CpuRingAttention.ForwardStep<{Scores}, {t}>(options, ranks, rank, sourceRank, q, k, v, runningO, runningLse, isa);");
        w.Close();
        w.Line();

        w.Line("/// <summary>Starts a running state for <see cref=\"ForwardStep\"/>: O = 0, L = −∞ (no key seen yet, the identity of the merge).</summary>");
        w.Line($"/// <param name=\"runningO\">Running output, [heads, Sq, {d}].</param>");
        w.Line("/// <param name=\"runningLse\">Running log-sum-exp, [heads, Sq].</param>");
        w.Line("public static void InitializeState(global::System.Span<float> runningO, global::System.Span<float> runningLse)");
        w.Line($"    => {Ring}.RingAttentionDriver.InitializeState(runningO, runningLse);");
        w.Line();

        w.Line("/// <summary>");
        w.Line(plan.Element == Element.F32
            ? "/// Writes a running state out after the last <see cref=\"ForwardStep\"/>: O and L copied."
            : $"/// Writes a running state out after the last <see cref=\"ForwardStep\"/>: O rounded to nearest even {element}, L as it is.");
        w.Line("/// </summary>");
        w.Line("/// <param name=\"runningO\">The running output.</param>");
        w.Line("/// <param name=\"runningLse\">The running log-sum-exp.</param>");
        w.Line("/// <param name=\"o\">The output, as long as <paramref name=\"runningO\"/>.</param>");
        w.Line("/// <param name=\"lse\">The output log-sum-exp, as long as <paramref name=\"runningLse\"/>.</param>");
        w.Line("/// <exception cref=\"global::System.ArgumentException\">The lengths differ.</exception>");
        w.Line($"public static void Finalize(global::System.ReadOnlySpan<float> runningO, global::System.ReadOnlySpan<float> runningLse, {output} o, global::System.Span<float> lse)");
        w.Line($"    => {Ring}.CpuRingAttention.Finalize(runningO, runningLse, o, lse);");
        w.Line();

        w.Line("/// <summary>");
        w.Line($"/// Attention on one device, without a ring: O = softmax(scale·Q·Kᵀ)·V, {mask}, over the whole");
        w.Line("/// sequence in its natural order (a ring of one rank, whatever the layout).");
        w.Line("/// </summary>");
        w.Line($"/// <param name=\"q\">Queries, [heads, S, {d}] row-major.</param>");
        w.Line($"/// <param name=\"k\">Keys, [kvHeads, S, {d}] row-major.</param>");
        w.Line($"/// <param name=\"v\">Values, [kvHeads, S, {d}] row-major.</param>");
        w.Line($"/// <param name=\"o\">Output, [heads, S, {d}] row-major.</param>");
        w.Line("/// <param name=\"lse\">Output log-sum-exp (natural log), [heads, S].</param>");
        w.Line("/// <param name=\"heads\">Query heads (≥ 1).</param>");
        w.Line(kvHeadsDoc);
        w.Line("/// <param name=\"sequenceLength\">Sequence length S.</param>");
        w.Line(isaDoc);
        w.Line("/// <exception cref=\"global::System.ArgumentException\">A size is invalid or a span's length does not match it.</exception>");
        w.Open($"public static void Attention({input} q, {input} k, {input} v, {output} o, global::System.Span<float> lse, int heads, int kvHeads, int sequenceLength, {CpuIsa}? isa = null)");
        w.Line($"{Ring}.RingAttentionOptions options = RingOptions(heads, kvHeads, sequenceLength);");
        w.Line($"{Ring}.CpuRingAttention.Attention<{Scores}, {t}>(options, q, k, v, o, lse, isa);");
        w.Close();
        w.Line();

        EmitBackward(w, plan, t, input, output, d, mask, kvHeadsDoc, shardsDoc);

        w.Line("/// <summary>");
        w.Line("/// The driver's options for this kernel: the caller's shape, checked so that an invalid one names the caller's argument,");
        w.Line("/// and the plan's head dimension, layout, mask, scale and buffers.");
        w.Line("/// </summary>");
        w.Line($"private static {Ring}.RingAttentionOptions RingOptions(int heads, int kvHeads, int sequenceLength)");
        w.Line($"    => {Ring}.RingAttentionOptions.FromArguments(heads, kvHeads, sequenceLength, headDim: {d}, layout: {Ring}.RingLayout.{plan.Layout},");
        w.Line($"        causal: {Literals.Bool(plan.Causal)}, scale: {Literals.Float(plan.Scale)}, buffers: {Literals.Int(plan.Buffers)});");
        w.Line();
    }

    /// <summary>
    /// <c>Backward</c> (the ring on this rank) and <c>AttentionBackward</c> (one device): the gradients of the forward
    /// pass's O for an upstream gradient dO, from the runtime's <c>global::KernelDsl.Ring.RingBackwardDriver</c>.
    /// </summary>
    private static void EmitBackward(CodeWriter w, AttentionPlan plan, string t, string input, string output, string d, string mask, string kvHeadsDoc, string shardsDoc)
    {
        string element = CpuElements.Describe(plan.Element);
        string accumulate = $"/// Elements are {element}; all math and every accumulator (dQ, and dK, dV as they travel) is fp32, converted once at the end.";
        string[] tensors =
        [
            $"/// <param name=\"q\">Queries, [heads, Sq, {d}] row-major.</param>",
            $"/// <param name=\"k\">Keys, [kvHeads, Sq, {d}] row-major.</param>",
            $"/// <param name=\"v\">Values, [kvHeads, Sq, {d}] row-major.</param>",
            $"/// <param name=\"o\">The forward output for these queries, [heads, Sq, {d}].</param>",
            "/// <param name=\"lse\">The forward log-sum-exp, [heads, Sq]; a row at −∞ (it saw no key) gets zero gradients.</param>",
            $"/// <param name=\"dO\">Gradient of the loss with respect to o, [heads, Sq, {d}].</param>",
            $"/// <param name=\"dQ\">Output: gradient with respect to q, [heads, Sq, {d}].</param>",
            $"/// <param name=\"dK\">Output: gradient with respect to k, summed over the query heads of each K/V head, [kvHeads, Sq, {d}].</param>",
            $"/// <param name=\"dV\">Output: gradient with respect to v, likewise, [kvHeads, Sq, {d}].</param>",
        ];
        string tensorParameters = $"{input} q, {input} k, {input} v, {input} o, global::System.ReadOnlySpan<float> lse, {input} dO, {output} dQ, {output} dK, {output} dV";
        const string sizes = "int heads, int kvHeads, int sequenceLength";

        w.Line("/// <summary>");
        w.Line($"/// Ring attention backward on this rank, on the CPU ({mask}): dQ, dK and dV of this rank's shard for the upstream gradient dO,");
        w.Line("/// FlashAttention-2's backward per block (P recomputed from L). K and V travel round the ring as in <see cref=\"Forward\"/>,");
        w.Line(plan.Buffers == 2
            ? "/// and the fp32 dK/dV accumulators travel one step behind them, both transfers overlapped with the compute (Overlap(Buffers = 2)),"
            : "/// and the fp32 dK/dV accumulators travel one step behind them, exchanged after each compute (Overlap(Buffers = 1)),");
        w.Line("/// so each rank ends with the full dK and dV of its own keys. Every rank calls it with the same sizes.");
        w.Line(shardsDoc);
        w.Line(accumulate);
        w.Line("/// </summary>");
        w.Line("/// <param name=\"ring\">This rank's communicator.</param>");
        w.Line("/// <param name=\"heads\">Query heads (≥ 1).</param>");
        w.Line(kvHeadsDoc);
        w.Line("/// <param name=\"sequenceLength\">Global sequence length S over all ranks.</param>");
        foreach (string line in tensors)
        {
            w.Line(line);
        }
        w.Line("/// <exception cref=\"global::System.ArgumentException\">A size is invalid or a span's length does not match it; the message names it.</exception>");
        w.Line("/// <exception cref=\"global::KernelDsl.Ring.RingCommunicationException\">The ring failed or timed out.</exception>");
        w.Line("/// <exception cref=\"global::KernelDsl.Ring.RingConfigurationException\">The rank before this one was called with other sizes, options or element type, or runs the forward pass.</exception>");
        w.Line($"public static void Backward({Ring}.IRingCommunicator ring, {sizes}, {tensorParameters})");
        w.Line($"    => {Ring}.RingBackwardDriver.Backward<{t}>(ring, RingOptions(heads, kvHeads, sequenceLength), q, k, v, o, lse, dO, dQ, dK, dV);");
        w.Line();

        w.Line("/// <summary>");
        w.Line($"/// Attention backward on one device, without a ring ({mask}): the gradients of <see cref=\"Attention\"/>'s o for the upstream");
        w.Line("/// gradient dO, over the whole sequence in its natural order (Sq = S).");
        w.Line(accumulate);
        w.Line("/// </summary>");
        w.Line("/// <param name=\"heads\">Query heads (≥ 1).</param>");
        w.Line(kvHeadsDoc);
        w.Line("/// <param name=\"sequenceLength\">Sequence length S.</param>");
        foreach (string line in tensors)
        {
            w.Line(line);
        }
        w.Line("/// <exception cref=\"global::System.ArgumentException\">A size is invalid or a span's length does not match it.</exception>");
        w.Line("/// <summary>");
        w.Line("/// One backward step, for callers that drive their own schedule: adds the gradient contributions of the queries of");
        w.Line("/// <paramref name=\"rank\"/> against the K/V shard of <paramref name=\"sourceRank\"/> into fp32 accumulators (dQ of the rank's queries,");
        w.Line("/// dK and dV of the source shard). Start the accumulators at zero and D with <see cref=\"BackwardDelta\"/>, call this once per shard,");
        w.Line("/// end with <see cref=\"FinalizeGradient\"/>. A shard with no visible key adds nothing.");
        w.Line("/// </summary>");
        w.Line("/// <param name=\"heads\">Query heads (≥ 1).</param>");
        w.Line(kvHeadsDoc);
        w.Line("/// <param name=\"sequenceLength\">Global sequence length S over all ranks.</param>");
        w.Line("/// <param name=\"ranks\">Number of ranks P the sequence is split over.</param>");
        w.Line("/// <param name=\"rank\">The rank whose queries <paramref name=\"q\"/> are.</param>");
        w.Line("/// <param name=\"sourceRank\">The rank whose K/V shard <paramref name=\"k\"/> and <paramref name=\"v\"/> are.</param>");
        w.Line($"/// <param name=\"q\">Queries of <paramref name=\"rank\"/>, [heads, Sq, {d}].</param>");
        w.Line($"/// <param name=\"k\">Keys of <paramref name=\"sourceRank\"/>, [kvHeads, Skv, {d}].</param>");
        w.Line($"/// <param name=\"v\">Values of <paramref name=\"sourceRank\"/>, [kvHeads, Skv, {d}].</param>");
        w.Line($"/// <param name=\"dO\">Upstream gradient of the rank's forward output, [heads, Sq, {d}].</param>");
        w.Line("/// <param name=\"lse\">The rank's forward log-sum-exp, [heads, Sq].</param>");
        w.Line("/// <param name=\"delta\">The rank's <see cref=\"BackwardDelta\"/>, [heads, Sq].</param>");
        w.Line($"/// <param name=\"dQ\">fp32 accumulator of the rank's dQ, [heads, Sq, {d}].</param>");
        w.Line($"/// <param name=\"dK\">fp32 accumulator of the source shard's dK, [kvHeads, Skv, {d}].</param>");
        w.Line($"/// <param name=\"dV\">fp32 accumulator of the source shard's dV, [kvHeads, Skv, {d}].</param>");
        w.Line("/// <exception cref=\"global::System.ArgumentException\">A size is invalid or a span's length does not match it.</exception>");
        w.Line("/// <exception cref=\"global::System.ArgumentOutOfRangeException\">A rank is out of range.</exception>");
        w.Line($"public static void BackwardStep({sizes}, int ranks, int rank, int sourceRank, {input} q, {input} k, {input} v, {input} dO, global::System.ReadOnlySpan<float> lse, global::System.ReadOnlySpan<float> delta, global::System.Span<float> dQ, global::System.Span<float> dK, global::System.Span<float> dV)");
        w.Line($"    => {Ring}.RingBackwardDriver.BackwardStep<{t}>(RingOptions(heads, kvHeads, sequenceLength), ranks, rank, sourceRank, q, k, v, dO, lse, delta, dQ, dK, dV);");
        w.Line();

        w.Line("/// <summary>D = rowsum(dO ∘ O) of every query row, for <see cref=\"BackwardStep\"/>: once per rank, before its steps.</summary>");
        w.Line($"/// <param name=\"o\">The forward output, [heads, Sq, {d}].</param>");
        w.Line("/// <param name=\"dO\">Its upstream gradient, the same shape.</param>");
        w.Line("/// <param name=\"delta\">Output, [heads, Sq].</param>");
        w.Line("/// <exception cref=\"global::System.ArgumentException\">The lengths do not match.</exception>");
        w.Line($"public static void BackwardDelta({input} o, {input} dO, global::System.Span<float> delta)");
        w.Line($"    => {Ring}.RingBackwardDriver.BackwardDelta<{t}>(o, dO, {d}, delta);");
        w.Line();

        w.Line($"/// <summary>Writes an fp32 gradient accumulator of <see cref=\"BackwardStep\"/> out as {element} (round to nearest even), once, at the end.</summary>");
        w.Line("/// <param name=\"accumulator\">The accumulator after the last step.</param>");
        w.Line("/// <param name=\"gradient\">The gradient, as long as <paramref name=\"accumulator\"/>.</param>");
        w.Line("/// <exception cref=\"global::System.ArgumentException\">The lengths differ.</exception>");
        w.Line($"public static void FinalizeGradient(global::System.ReadOnlySpan<float> accumulator, {output} gradient)");
        w.Line($"    => {Ring}.RingBackwardDriver.FinalizeGradient<{t}>(accumulator, gradient);");
        w.Line();

        // Tensors first, sizes last, as in Attention.
        w.Line($"public static void AttentionBackward({tensorParameters}, {sizes})");
        w.Line($"    => {Ring}.RingBackwardDriver.AttentionBackward<{t}>(RingOptions(heads, kvHeads, sequenceLength), q, k, v, o, lse, dO, dQ, dK, dV);");
        w.Line();
    }
}
