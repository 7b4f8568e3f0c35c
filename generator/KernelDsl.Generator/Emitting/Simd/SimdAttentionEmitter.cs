using System.Collections.Generic;
using KernelDsl.Generator.Planning;

namespace KernelDsl.Generator.Emitting.Simd;

/// <summary>
/// Prints the CPU fallback of one ring-attention kernel: the shared step (<see cref="AttentionStepEmitter"/>),
/// then for each planned instruction set a nested
/// <c>private readonly struct CpuAttention{Isa} : global::KernelDsl.Ring.IAttentionBlockKernel&lt;TElement&gt;</c>
/// holding that width's vector math: the S = Q·Kᵀ and O += P·V register tiles, the row max, the vectorised
/// exp2 and the widening of 16-bit values. Every width prints through the same routines; <see cref="SimdIsa"/>
/// supplies the spelling (the scalar width is a "vector" of one float).
/// </summary>
internal static class SimdAttentionEmitter
{
    private const string Unsafe = "global::System.Runtime.CompilerServices.Unsafe";
    private const string MathF = "global::System.MathF";
    private const string Optimized = "[global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]";
    private const string Inline = "[global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]";
    private const string Avx512 = "global::System.Runtime.Intrinsics.X86.Avx512F";

    public static string KernelTypeName(CpuIsa isa) => "CpuAttention" + isa;

    /// <summary>Prints the shared step and the kernel structs; called inside the generated partial class.</summary>
    public static void Emit(CodeWriter w, AttentionPlan plan)
    {
        w.Line("// ── CPU fallback ──────────────────────────────────────────────────────────────");
        w.Line();
        AttentionStepEmitter.Emit(w, plan);
        foreach (var blocking in plan.Cpu)
        {
            w.Line();
            EmitKernel(w, plan, blocking);
        }
    }

    private static void EmitKernel(CodeWriter w, AttentionPlan plan, CpuAttentionBlocking blocking)
    {
        var isa = SimdIsa.For(blocking.Isa);
        var elements = new CpuElements(plan.Element, plan.Element);
        string name = KernelTypeName(blocking.Isa);
        string t = elements.InputType;
        string span = $"global::System.ReadOnlySpan<{t}>";
        w.Line("/// <summary>");
        w.Line($"/// CPU block kernel with {Describe(isa)}: the vector math of a ring step, for");
        w.Line($"/// <see cref=\"{AttentionStepEmitter.Step}{{TTiles}}\"/>, which supplies the loops, threads, masks and merge.");
        w.Line("/// </summary>");
        w.Open($"private readonly struct {name} : global::KernelDsl.Ring.IAttentionBlockKernel<{t}>, {AttentionStepEmitter.Tiles}");
        EmitBlockingComment(w, plan, blocking, isa, elements);
        w.Line($"public static int QRows => {Invariant.Int(blocking.QRows)};");
        w.Line($"public static int KvRows => {Invariant.Int(blocking.KvRows)};");
        w.Line($"public static int TaskRows => {Invariant.Int(blocking.TaskRows)};");
        w.Line($"public static long ParallelFlops => {blocking.ParallelFlops.ToString(System.Globalization.CultureInfo.InvariantCulture)};");
        w.Line();
        w.Line("/// <inheritdoc/>");
        w.Line($"public static void Step(in global::KernelDsl.Ring.AttentionStepArguments arguments, {span} q, {span} k, {span} v, global::System.Span<float> runningO, global::System.Span<float> runningLse)");
        w.Line($"    => {AttentionStepEmitter.Step}<{name}>.Run(in arguments, q, k, v, runningO, runningLse);");
        w.Line();
        w.Line("/// <inheritdoc/>");
        w.Line($"public static void Finalize(global::System.ReadOnlySpan<float> runningO, global::System.ReadOnlySpan<float> runningLse, global::System.Span<{t}> o, global::System.Span<float> lse)");
        w.Line($"    => {AttentionStepEmitter.Shared}.Finalize(runningO, runningLse, o, lse);");
        w.Line();
        EmitLoadQueries(w, isa, elements);
        w.Line();
        if (elements.WidensInput)
        {
            EmitWiden(w, isa, elements);
            w.Line();
        }
        EmitScores(w, isa, blocking);
        w.Line();
        EmitSoftmax(w, isa, blocking);
        w.Line();
        EmitAccumulate(w, isa, blocking);
        w.Line();
        EmitNormalize(w, isa);
        w.Line();
        EmitExp2(w, isa);
        w.Close();
    }

    private static string Describe(SimdIsa isa)
        => isa.IsScalar ? "scalar floats" : $"{isa.Isa} ({Invariant.Int(isa.Lanes)} floats per vector)";

    private static string Plural(int count, string noun)
        => Invariant.Int(count) + " " + noun + (count == 1 ? "" : noun.EndsWith("s", System.StringComparison.Ordinal) ? "es" : "s");

    /// <summary>Why these numbers: the register budget of both tiles, and which cache each block is sized for.</summary>
    private static void EmitBlockingComment(CodeWriter w, AttentionPlan plan, CpuAttentionBlocking b, SimdIsa isa, CpuElements elements)
    {
        string unit = isa.IsScalar ? "float" : "vector";
        int sLive = b.QRows * b.ScoreVectors + b.ScoreVectors + 1;
        int oLive = b.QRows * b.OutputVectors + b.OutputVectors + 1;
        int passes = plan.HeadDim / b.OutputFloats;
        long tileBytes = 2L * b.KvRows * plan.HeadDim * 4;
        long taskBytes = 2L * b.TaskRows * plan.HeadDim * 4;
        string[] labels =
        {
            $"QRows×KvRows = {Invariant.Int(b.QRows)}×{Invariant.Int(b.KvRows)}",
            $"S tile {Invariant.Int(b.QRows)}×{Invariant.Int(b.ScoreKeys)}",
            $"O tile {Invariant.Int(b.QRows)}×{Invariant.Int(b.OutputFloats)}",
            $"TaskRows = {Invariant.Int(b.TaskRows)}",
        };
        int column = 0;
        foreach (string label in labels)
        {
            column = System.Math.Max(column, label.Length + 2);
        }
        string Row(string label, string text) => "//   " + label.PadRight(column) + text;
        w.Line($"// Blocking for {Describe(isa)}, {Invariant.Int(b.Registers)} {isa.RegisterKind}:");
        w.Line(Row(labels[0], $"a block of {Invariant.Int(b.QRows)} query rows shares every K and V load; its S/P ({Invariant.Int(b.QRows)}×{Invariant.Int(b.KvRows)} floats, {Invariant.Bytes(4L * b.QRows * b.KvRows)}) stays in L1."));
        w.Line(Row(labels[1], $"{Invariant.Int(b.QRows)} rows × {Plural(b.ScoreVectors, unit)} of keys: {Invariant.Int(b.QRows * b.ScoreVectors)} accumulators, with {Plural(b.ScoreVectors, "Kᵀ load")} and one"));
        w.Line(Row("", $"Q broadcast, {Invariant.Int(sLive)} registers are live per head dimension{(sLive <= b.Registers ? " (no spills)" : "")}."));
        w.Line(Row(labels[2], $"{Invariant.Int(b.QRows)} rows × {Plural(b.OutputVectors, unit)} of O: {Invariant.Int(b.QRows * b.OutputVectors)} accumulators, with {Plural(b.OutputVectors, "V load")} and one"));
        w.Line(Row("", $"P broadcast, {Invariant.Int(oLive)} registers are live per key{(oLive <= b.Registers ? " (no spills)" : "")}; {Plural(passes, "pass")} cover{(passes == 1 ? "s" : "")} d = {Invariant.Int(plan.HeadDim)}."));
        w.Line(Row(labels[3], $"a task's K/V tile (fp32, {Invariant.Bytes(tileBytes)}) and its queries and O ({Invariant.Bytes(taskBytes)}) stay in L2"));
        w.Line(Row("", $"while its {Invariant.Int(b.TaskRows / b.QRows)} blocks use the tile."));
        if (elements.WidensInput)
        {
            w.Line($"// Q, K and V hold {CpuElements.Describe(elements.Input)}: a task widens its queries once, each K/V tile is widened once");
            w.Line("// per step while it is packed; all math is fp32.");
        }
        w.Line();
    }

    /// <summary>
    /// LoadQueries: q·ScaleLog2 in fp32, so that S = Q·Kᵀ comes out in log₂ units and each probability costs
    /// a subtraction and an exp2 rather than a multiply-add and an exp2 (the queries are scaled once per task,
    /// the scores once per key tile).
    /// </summary>
    private static void EmitLoadQueries(CodeWriter w, SimdIsa isa, CpuElements elements)
    {
        w.Line("/// <summary>Q·ScaleLog2 in fp32 for <paramref name=\"count\"/> values (a multiple of HeadDim): scores then come out in log₂ units.</summary>");
        EmitConvert(w, isa, elements, "LoadQueries", scaled: true);
    }

    /// <summary>Widen: 16-bit values to fp32 (V, as it is packed).</summary>
    private static void EmitWiden(CodeWriter w, SimdIsa isa, CpuElements elements)
    {
        w.Line("/// <summary>Widens <paramref name=\"count\"/> values (a multiple of HeadDim) to fp32.</summary>");
        EmitConvert(w, isa, elements, "Widen", scaled: false);
    }

    /// <summary>One vector at a time (the count is a multiple of HeadDim, hence of the lanes): to fp32, times ScaleLog2 when scaled.</summary>
    private static void EmitConvert(CodeWriter w, SimdIsa isa, CpuElements elements, string name, bool scaled)
    {
        w.Line(Optimized);
        w.Open($"public static void {name}(ref readonly {elements.InputType} source, int count, ref float destination)");
        if (scaled)
        {
            w.Line($"var scale = {isa.Broadcast(AttentionStepEmitter.Shared + ".ScaleLog2")};");
        }
        w.Line($"ref {elements.InputType} from = ref {Unsafe}.AsRef(in source);");
        w.Line("ref float to = ref destination;");
        w.Open($"for (int i = 0; i < count; i += {Invariant.Int(isa.Lanes)})");
        string value = isa.IsScalar ? elements.AsFloat("from") : elements.LoadFloats(isa.Lanes, "from", 0);
        if (scaled)
        {
            value += " * scale";
        }
        w.Line(isa.IsScalar ? $"to = {value};" : isa.Store(value, "to", 0));
        Advance(w, "from", isa.Lanes);
        Advance(w, "to", isa.Lanes);
        w.Close();
        w.Close();
    }

    /// <summary>
    /// S = Q·Kᵀ: QRows rows × ScoreVectors vectors of keys in registers; per head dimension c, ScoreVectors loads
    /// of the packed Kᵀ row c and one broadcast of q[i, c] per row, QRows·ScoreVectors fused multiply-adds.
    /// </summary>
    private static void EmitScores(CodeWriter w, SimdIsa isa, CpuAttentionBlocking b)
    {
        int rows = b.QRows, vectors = b.ScoreVectors, lanes = isa.Lanes;
        string V(int j) => Invariant.Int(j);
        string Acc(int r, int j) => $"s{V(r)}_{V(j)}";
        w.Line("/// <summary>");
        w.Line($"/// S = Q·Kᵀ, {Invariant.Int(b.ScoreKeys)} keys at a time: s[i, j] = Σ_c q[i, c]·Kᵀ[c, j]. Keys past <paramref name=\"count\"/> in the last");
        w.Line("/// group are the zero padding of the tile (the step masks them).");
        w.Line("/// </summary>");
        w.Line(Optimized);
        w.Open("public static void Scores(ref readonly float queries, ref readonly float keys, int count, ref float scores)");
        w.Open($"for (int j0 = 0; j0 < count; j0 += {Invariant.Int(b.ScoreKeys)})");
        w.Line($"// s{{row}}_{{vector}}: {(isa.IsScalar ? "key" : "vector")} {{vector}} of this group's keys for query row {{row}}.");
        ForEach(rows, vectors, (r, j) => w.Line($"var {Acc(r, j)} = {isa.Zero};"));
        w.Line($"ref float k = ref {Unsafe}.Add(ref {Unsafe}.AsRef(in keys), j0);");
        w.Line($"ref float q = ref {Unsafe}.AsRef(in queries);");
        w.Open($"for (int c = 0; c < {AttentionStepEmitter.Shared}.HeadDim; c++)");
        for (int j = 0; j < vectors; j++)
        {
            w.Line($"var k{V(j)} = {isa.Load("k", j * lanes)};");
        }
        for (int r = 0; r < rows; r++)
        {
            string offset = r == 0 ? "q" : $"{Unsafe}.Add(ref q, {V(r)} * {AttentionStepEmitter.Shared}.HeadDim)";
            w.Line($"var q{V(r)} = {isa.Broadcast(offset)};");
            for (int j = 0; j < vectors; j++)
            {
                w.Line($"{Acc(r, j)} = {isa.MultiplyAdd("q" + V(r), "k" + V(j), Acc(r, j))};");
            }
        }
        w.Line($"k = ref {Unsafe}.Add(ref k, KvRows);  // Kᵀ row c + 1");
        w.Line($"q = ref {Unsafe}.Add(ref q, 1);");
        w.Close();
        w.Line($"ref float s = ref {Unsafe}.Add(ref scores, j0);");
        ForEach(rows, vectors, (r, j) => w.Line(isa.Store(Acc(r, j), "s", r * b.KvRows + j * lanes)));
        w.Close();
        w.Close();
    }

    /// <summary>
    /// Softmax: the online-softmax update of a block's QRows rows in one pass over S for the row maxima and one
    /// for the exponentials, every row's vector at each step. One row at a time, each row's reduction and exp2
    /// chain waited on the one before (latency-bound: 13–15 % of a d = 64 step in `perf`); interleaved, they overlap.
    /// The maxima use the platform's max (one <c>vmaxps</c>, not IEEE's three instructions): a NaN score may be
    /// dropped from mᵢ, but its own p = 2^NaN is NaN and carries it into l and O.
    /// </summary>
    private static void EmitSoftmax(CodeWriter w, SimdIsa isa, CpuAttentionBlocking b)
    {
        int rows = b.QRows, lanes = isa.Lanes;
        string V(int i) => Invariant.Int(i);
        string At(string reference, int i) => $"{Unsafe}.Add(ref {reference}, {V(i)})";
        w.Line("/// <summary>");
        w.Line($"/// The online-softmax update of one block's {V(rows)} rows of S (KvRows apart, log₂ units; masked scores −∞), with m, l");
        w.Line("/// and α of those rows at <paramref name=\"max\"/>, <paramref name=\"sum\"/>, <paramref name=\"rescale\"/>: per row i,");
        w.Line("/// m′ = max(mᵢ, maxⱼ s[i, j]); p[i, j] = 2^{s[i, j] − m′} in place over S; αᵢ = 2^{mᵢ − m′}; lᵢ ← αᵢ·lᵢ + Σⱼ p[i, j]; mᵢ ← m′.");
        w.Line("/// αᵢ is exactly 1 when the max did not move (no scalar exp2 then); a row that has seen no key yet keeps m = −∞,");
        w.Line("/// gets P = 0 (its shift is 0, so 2^{−∞} = 0) and α = 1. The maxima take the platform's max (one instruction): a NaN");
        w.Line("/// score may be left out of m′, but its p = 2^NaN is NaN and carries it into l and O.");
        w.Line("/// </summary>");
        w.Line(Optimized);
        w.Open("public static void Softmax(ref float scores, ref float max, ref float sum, ref float rescale)");
        w.Line("// r{row}: the row's largest score so far, lane by lane.");
        for (int r = 0; r < rows; r++)
        {
            w.Line($"var r{V(r)} = {isa.Load("scores", r * b.KvRows)};");
        }
        w.Open($"for (int j = {V(lanes)}; j < KvRows; j += {V(lanes)})");
        w.Line($"ref float column = ref {Unsafe}.Add(ref scores, j);");
        for (int r = 0; r < rows; r++)
        {
            w.Line($"r{V(r)} = {isa.MaxNative($"r{V(r)}", isa.Load("column", r * b.KvRows))};");
        }
        w.Close();
        w.Line("// m{row}: the new running max; a{row}: α, which rescales what was accumulated against the old one.");
        for (int r = 0; r < rows; r++)
        {
            w.Line($"float old{V(r)} = {At("max", r)}, m{V(r)} = {MathF}.Max(old{V(r)}, MaxAcross(r{V(r)}));");
        }
        for (int r = 0; r < rows; r++)
        {
            w.Line($"float a{V(r)} = m{V(r)} == old{V(r)} ? 1f : float.Exp2(old{V(r)} - m{V(r)});");
        }
        w.Line("// p = 2^{s − m}; l{row}: the row's Σp, lane by lane.");
        for (int r = 0; r < rows; r++)
        {
            w.Line($"var shift{V(r)} = {isa.Broadcast($"float.IsNegativeInfinity(m{V(r)}) ? 0f : -m{V(r)}")};");
        }
        for (int r = 0; r < rows; r++)
        {
            w.Line($"var l{V(r)} = {isa.Zero};");
        }
        w.Open($"for (int j = 0; j < KvRows; j += {V(lanes)})");
        w.Line($"ref float column = ref {Unsafe}.Add(ref scores, j);");
        for (int r = 0; r < rows; r++)
        {
            w.Line($"var p{V(r)} = Exp2({isa.Load("column", r * b.KvRows)} + shift{V(r)});");
            w.Line(isa.Store($"p{V(r)}", "column", r * b.KvRows));
            w.Line($"l{V(r)} += p{V(r)};");
        }
        w.Close();
        for (int r = 0; r < rows; r++)
        {
            string total = isa.IsScalar ? $"l{V(r)}" : $"{Api(isa)}.Sum(l{V(r)})";
            w.Line($"{At("sum", r)} = {At("sum", r)} * a{V(r)} + {total};");
            w.Line($"{At("max", r)} = m{V(r)};");
            w.Line($"{At("rescale", r)} = a{V(r)};");
        }
        w.Close();
        w.Line();
        EmitMaxAcross(w, isa);
    }

    /// <summary>MaxAcross: the largest lane, halving the vector down to 4 lanes, then comparing those.</summary>
    private static void EmitMaxAcross(CodeWriter w, SimdIsa isa)
    {
        w.Line("/// <summary>The largest lane of <paramref name=\"v\"/>.</summary>");
        w.Line(Inline);
        w.Open($"private static float MaxAcross({isa.VectorType} v)");
        if (isa.IsScalar)
        {
            w.Line("return v;");
        }
        else
        {
            string current = "v";
            for (int width = isa.Lanes / 2; width >= 4; width /= 2)
            {
                string half = "v" + Invariant.Int(width);
                string api = "global::System.Runtime.Intrinsics.Vector" + Invariant.Int(width * 32);
                string whole = "global::System.Runtime.Intrinsics.Vector" + Invariant.Int(width * 64);
                w.Line($"var {half} = {api}.MaxNative({whole}.GetLower({current}), {whole}.GetUpper({current}));");
                current = half;
            }
            w.Line($"return float.MaxNative(float.MaxNative({current}[0], {current}[1]), float.MaxNative({current}[2], {current}[3]));");
        }
        w.Close();
    }

    /// <summary>
    /// O ← α·O + P·V: per pass over OutputVectors vectors of head dimensions, QRows rows of O in registers
    /// (rescaled by α on load), then per key OutputVectors loads of the V row and one broadcast of p[i, j] per row.
    /// </summary>
    private static void EmitAccumulate(CodeWriter w, SimdIsa isa, CpuAttentionBlocking b)
    {
        int rows = b.QRows, vectors = b.OutputVectors, lanes = isa.Lanes;
        string V(int j) => Invariant.Int(j);
        string Acc(int r, int j) => $"o{V(r)}_{V(j)}";
        string d = AttentionStepEmitter.Shared + ".HeadDim";
        w.Line("/// <summary>");
        w.Line($"/// O ← α_i·O + P·V for the block's {Invariant.Int(rows)} rows: o[i, c] = α_i·o[i, c] + Σ_j p[i, j]·v[j, c], over the first");
        w.Line($"/// <paramref name=\"keys\"/> keys, {Invariant.Int(b.OutputFloats)} head dimensions per pass.");
        w.Line("/// </summary>");
        w.Line(Optimized);
        w.Open("public static void Accumulate(ref readonly float probabilities, ref readonly float values, int keys, ref readonly float rescale, ref float output)");
        w.Line($"ref float alpha = ref {Unsafe}.AsRef(in rescale);");
        w.Open($"for (int c0 = 0; c0 < {d}; c0 += {Invariant.Int(b.OutputFloats)})");
        w.Line($"// o{{row}}_{{vector}}: {(isa.IsScalar ? "dimension" : "vector")} {{vector}} of this pass for row {{row}}, rescaled by α_row as it is loaded.");
        w.Line($"ref float out0 = ref {Unsafe}.Add(ref output, c0);");
        for (int r = 1; r < rows; r++)
        {
            w.Line($"ref float out{V(r)} = ref {Unsafe}.Add(ref out{V(r - 1)}, {d});");
        }
        for (int r = 0; r < rows; r++)
        {
            w.Line($"var alpha{V(r)} = {isa.Broadcast(SimdIsa.Element("alpha", r))};");
            for (int j = 0; j < vectors; j++)
            {
                w.Line($"var {Acc(r, j)} = {isa.Load("out" + V(r), j * lanes)} * alpha{V(r)};");
            }
        }
        w.Line($"ref float p = ref {Unsafe}.AsRef(in probabilities);");
        w.Line($"ref float v = ref {Unsafe}.Add(ref {Unsafe}.AsRef(in values), c0);");
        w.Open("for (int j = 0; j < keys; j++)");
        for (int j = 0; j < vectors; j++)
        {
            w.Line($"var v{V(j)} = {isa.Load("v", j * lanes)};");
        }
        for (int r = 0; r < rows; r++)
        {
            string offset = r == 0 ? "p" : $"{Unsafe}.Add(ref p, {V(r)} * KvRows)";
            w.Line($"var p{V(r)} = {isa.Broadcast(offset)};");
            for (int j = 0; j < vectors; j++)
            {
                w.Line($"{Acc(r, j)} = {isa.MultiplyAdd("p" + V(r), "v" + V(j), Acc(r, j))};");
            }
        }
        w.Line($"p = ref {Unsafe}.Add(ref p, 1);");
        w.Line($"v = ref {Unsafe}.Add(ref v, {d});  // V row j + 1");
        w.Close();
        ForEach(rows, vectors, (r, j) => w.Line(isa.Store(Acc(r, j), "out" + V(r), j * lanes)));
        w.Close();
        w.Close();
    }

    /// <summary>Normalize: one row of O times 1/l.</summary>
    private static void EmitNormalize(CodeWriter w, SimdIsa isa)
    {
        w.Line("/// <summary>destination = output·factor over one row of HeadDim values.</summary>");
        w.Open("public static void Normalize(ref readonly float output, float factor, ref float destination)");
        w.Line($"ref float from = ref {Unsafe}.AsRef(in output);");
        w.Line("ref float to = ref destination;");
        w.Line($"var scale = {isa.Broadcast("factor")};");
        w.Open($"for (int c = 0; c < {AttentionStepEmitter.Shared}.HeadDim; c += {Invariant.Int(isa.Lanes)})");
        w.Line(isa.Store($"{isa.Load("from", 0)} * scale", "to", 0));
        Advance(w, "from", isa.Lanes);
        Advance(w, "to", isa.Lanes);
        w.Close();
        w.Close();
    }

    /// <summary>
    /// 2^x for x ≤ 0 (a score minus the running max): x = n + f with n = round(x) and f ∈ [−½, ½]; 2^f by
    /// a degree-5 minimax polynomial with p(0) = 1 (relative error below 2e-7, about 1.4 ulp; Cephes' degree 6
    /// is 0.7 ulp for one more multiply-add per vector), then p·2^n. The portable form rounds by adding and
    /// subtracting 1.5·2²³ and builds 2^n in the exponent field; AVX-512 has each step as one instruction
    /// (<c>vrndscaleps</c>, <c>vscalefps</c>), three vector operations fewer per vector of exponentials (Softmax
    /// 9.9 % → 8.3 % of a d = 64 step, docs/PERFORMANCE_NOTES.md note 12). The Vector512 kernel prints both behind
    /// <c>Avx512F.IsSupported</c>, a JIT-time constant, so a forced Vector512 still runs (emulated) without AVX-512.
    /// Masked scores (−∞) give exactly 0 either way: x is clamped where 2^n is 0.
    /// </summary>
    private static void EmitExp2(CodeWriter w, SimdIsa isa)
    {
        string v = isa.VectorType;
        string C(string literal) => isa.Broadcast(literal);
        w.Line("/// <summary>");
        w.Line("/// 2^x for x ≤ 0, relative error below 2e-7: x = n + f with n = round(x), f ∈ [−½, ½]; 2^f from a degree-5");
        w.Line("/// minimax polynomial with 2^0 = 1 exactly, times 2^n. x is clamped where 2^n is exactly 0 (−160 for vscalefps, −127");
        w.Line("/// in the exponent field), so a masked score (−∞) gives p = 0.");
        w.Line("/// </summary>");
        w.Line(Inline);
        w.Open($"private static {v} Exp2({v} x)");
        if (isa.HasScale)
        {
            w.Open($"if ({Avx512}.IsSupported)");
            w.Line($"x = {isa.Max("x", C("-160f"))};");
            w.Line($"var n = {Avx512}.RoundScale(x, 0);  // to nearest");
            EmitExp2Polynomial(w, isa, "x - n");
            w.Line($"return {Avx512}.Scale(p, n);");
            w.Close();
            w.Open("else");
        }
        w.Line($"x = {isa.Max("x", C("-127f"))};");
        w.Line("// Adding 1.5·2²³ rounds x to the nearest integer n, which lands in the low mantissa bits of `rounded`.");
        w.Line($"var rounded = x + {C("12582912f")};");
        EmitExp2Polynomial(w, isa, $"x - (rounded - {C("12582912f")})");
        w.Line("// 2^n: the bits of `rounded` are 0x4B400000 + n; n + 127 shifted into the exponent field.");
        if (isa.IsScalar)
        {
            w.Line("float power = global::System.BitConverter.Int32BitsToSingle((global::System.BitConverter.SingleToInt32Bits(rounded) - (0x4B400000 - 127)) << 23);");
        }
        else
        {
            string api = Api(isa);
            w.Line($"var power = {api}.AsSingle(({api}.AsInt32(rounded) - {api}.Create(0x4B400000 - 127)) << 23);");
        }
        w.Line("return p * power;");
        if (isa.HasScale)
        {
            w.Close();
        }
        w.Close();
    }

    /// <summary>f = <paramref name="fraction"/> and p = 2^f by Horner's rule.</summary>
    private static void EmitExp2Polynomial(CodeWriter w, SimdIsa isa, string fraction)
    {
        w.Line($"var f = {fraction};");
        w.Line($"var p = {isa.Broadcast("1.3264726e-3f")};");
        foreach (string coefficient in new[] { "9.671513e-3f", "5.5507336e-2f", "0.24022242f", "0.693147f", "1f" })
        {
            w.Line($"p = {isa.MultiplyAdd("p", "f", isa.Broadcast(coefficient))};");
        }
    }

    private static string Api(SimdIsa isa) => "global::System.Runtime.Intrinsics." + isa.Isa;

    private static void Advance(CodeWriter w, string reference, int count)
        => w.Line($"{reference} = ref {Unsafe}.Add(ref {reference}, {Invariant.Int(count)});");

    private static void ForEach(int rows, int vectors, System.Action<int, int> body)
    {
        for (int r = 0; r < rows; r++)
        {
            for (int j = 0; j < vectors; j++)
            {
                body(r, j);
            }
        }
    }
}
