using KernelDsl.Generator.Model;
using KernelDsl.Generator.Parsing;
using KernelDsl.Generator.Planning;

namespace KernelDsl.Generator.Emitting.Simd;

/// <summary>
/// Prints the CPU fallback of one GEMM: for each planned instruction set, a nested
/// <c>private readonly struct Cpu{Isa} : global::KernelDsl.Cpu.ICpuGemmKernel</c> holding the
/// blocking constants, the two packing routines and the register microkernel with the fused
/// epilogue, specialised for the plan's transposes, bias and activation. The runtime's
/// <c>CpuGemm.Run</c> supplies the loops, threads and edge tiles around it. Every width prints
/// through the same routines; <see cref="SimdIsa"/> supplies the spelling, and <see cref="CpuElements"/>
/// that of the element types (16-bit operands are widened to float while packing; the microkernel is fp32 only).
/// </summary>
internal static class SimdGemmEmitter
{
    private const string Unsafe = "global::System.Runtime.CompilerServices.Unsafe";

    /// <summary>
    /// On the hot methods: compile fully optimised at once. Tiered compilation would first run the
    /// microkernel as unoptimised tier-0 code (about ten times slower) until a call count promotes it.
    /// </summary>
    private const string Optimized = "[global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]";

    public static string KernelTypeName(CpuIsa isa) => "Cpu" + isa;

    /// <summary>Prints the kernel structs; called inside the generated partial class.</summary>
    public static void Emit(CodeWriter w, GemmPlan plan)
    {
        for (int index = 0; index < plan.Cpu.Count; index++)
        {
            if (index > 0)
            {
                w.Line();
            }
            EmitKernel(w, plan, plan.Cpu[index]);
        }
    }

    private static void EmitKernel(CodeWriter w, GemmPlan plan, CpuBlocking blocking)
    {
        var isa = SimdIsa.For(blocking.Isa);
        var elements = CpuElements.Of(plan.Operands);
        w.Line($"/// <summary>CPU fallback with {Describe(isa)}: packing and the {Invariant.Int(blocking.Mr)}×{Invariant.Int(blocking.Nr)} microkernel, driven by <see cref=\"global::KernelDsl.Cpu.CpuGemm\"/>.</summary>");
        w.Open($"private readonly struct {KernelTypeName(blocking.Isa)} : {elements.KernelInterface}");
        EmitBlockingComment(w, plan, blocking, isa, elements);
        w.Line($"public static int Mr => {Invariant.Int(blocking.Mr)};");
        w.Line($"public static int Nr => {Invariant.Int(blocking.Nr)};");
        w.Line($"public static int Kc => {Invariant.Int(blocking.Kc)};");
        w.Line($"public static int Mc => {Invariant.Int(blocking.Mc)};");
        w.Line($"public static int Nc => {Invariant.Int(blocking.Nc)};");
        w.Line();
        EmitPack(w, isa, elements, PackedOperand.A(plan.Operands.TransposeA), blocking.Mr);
        w.Line();
        EmitPack(w, isa, elements, PackedOperand.B(plan.Operands.TransposeB), blocking.Nr);
        w.Line();
        EmitMicroKernel(w, isa, blocking, plan.Epilogue);
        if (plan.Epilogue.Activation != Activation.None)
        {
            w.Line();
            EmitActivation(w, isa, plan.Epilogue.Activation);
        }
        w.Close();
    }

    private static string Describe(SimdIsa isa)
        => isa.IsScalar ? "scalar floats" : $"{isa.Isa} ({Invariant.Int(isa.Lanes)} floats per vector)";

    /// <summary>Why these numbers: register budget of the tile, and which cache each packed block is sized for.</summary>
    private static void EmitBlockingComment(CodeWriter w, GemmPlan plan, CpuBlocking blocking, SimdIsa isa, CpuElements elements)
    {
        int vectorsPerRow = blocking.Nr / blocking.Lanes;
        int live = blocking.Accumulators + vectorsPerRow + 1;
        string tile = $"Mr×Nr = {Invariant.Int(blocking.Mr)}×{Invariant.Int(blocking.Nr)}";
        string[] labels = { tile, $"Kc = {Invariant.Int(blocking.Kc)}", $"Mc = {Invariant.Int(blocking.Mc)}", $"Nc = {Invariant.Int(blocking.Nc)}" };
        int column = 0;
        foreach (string label in labels)
        {
            column = System.Math.Max(column, label.Length + 2);
        }
        string Row(string label, string text) => "//   " + label.PadRight(column) + text;
        string perRow = $"{Invariant.Int(vectorsPerRow)} {(isa.IsScalar ? "float" : "vector")}{(vectorsPerRow == 1 ? "" : "s")}";
        string bRow = isa.IsScalar ? $"{Invariant.Int(vectorsPerRow)} B values" : $"{Invariant.Int(vectorsPerRow)} B vector{(vectorsPerRow == 1 ? "" : "s")}";
        string fits = live <= isa.Registers ? " (no spills)" : "";
        w.Line($"// Blocking for {Describe(isa)}, {Invariant.Int(isa.Registers)} {isa.RegisterKind}:");
        w.Line(Row(labels[0], $"register tile: {Invariant.Int(blocking.Mr)} rows of {perRow} = {Invariant.Int(blocking.Accumulators)} accumulators; with the {bRow}"));
        w.Line(Row("", $"and one A broadcast, {Invariant.Int(live)} registers are live in the k loop{fits}."));
        w.Line(Row(labels[1], $"a C tile is loaded and stored once per Kc steps of k; the packed B sliver (Kc×Nr, {Invariant.Bytes(4L * blocking.Kc * blocking.Nr)})"));
        w.Line(Row("", "is read again from L1 or L2 for every A sliver that streams past it."));
        w.Line(Row(labels[2], $"a packed A block (Mc×Kc, {Invariant.Bytes(4L * blocking.Mc * blocking.Kc)}) stays in L2 while a task's B slivers stream past it."));
        w.Line(Row(labels[3], $"a packed B panel (Kc×Nc, {Invariant.Bytes(4L * blocking.Kc * blocking.Nc)}) stays in L3 while every row block uses it."));
        w.Line($"// {PackedOperand.A(plan.Operands.TransposeA).Layout}; {PackedOperand.B(plan.Operands.TransposeB).Layout}.");
        if (elements.WidensInput)
        {
            w.Line($"// A and B hold {CpuElements.Describe(elements.Input)}: packing widens them to float, so the microkernel computes in fp32.");
        }
        if (elements.ConvertsOutput)
        {
            w.Line($"// C holds {CpuElements.Describe(elements.Output)}: c here is the driver's fp32 workspace, rounded into C once its tile is final.");
        }
        w.Line($"// Epilogue: c ← {EpilogueFormula(plan.Epilogue)}; β = 0 never reads c.");
        w.Line();
    }

    private static string EpilogueFormula(EpilogueSpec epilogue)
    {
        string inner = "α·acc + β·c" + (epilogue.Bias ? " + bias" : "");
        return epilogue.Activation == Activation.None ? inner : epilogue.Activation.ToString().ToLowerInvariant() + "(" + inner + ")";
    }

    /// <summary>
    /// PackA or PackB. When the stored rows run along the sliver's lines (A transposed, B not), each
    /// depth's values are one contiguous run, copied with vector loads; otherwise each line is
    /// contiguous along the depth and the copy transposes it. Values are read as
    /// <see cref="CpuElements.InputType"/> and written as floats.
    /// </summary>
    private static void EmitPack(CodeWriter w, SimdIsa isa, CpuElements elements, PackedOperand op, int width)
    {
        string i = op.Index;
        string t = elements.InputType;
        w.Line(op.ContiguousAlongSliver
            ? $"// {op.Layout}: each depth's {op.Width} values are contiguous."
            : $"// {op.Layout}: each line is contiguous along p, so packing transposes it.");
        w.Line(Optimized);
        w.Open($"public static void {op.Method}(ref readonly {t} {op.Source}, int {op.Ld}, int {op.Start}, int {op.Count}, int p0, int depth, ref float packed)");
        w.Line($"ref {t} source = ref {Unsafe}.AsRef(in {op.Source});");
        if (op.ContiguousAlongSliver)
        {
            w.Open($"if ({op.Count} == {op.Width})");
            w.Open("for (int p = 0; p < depth; p++)");
            EmitDepthRun(w, op, t);
            foreach (string copy in isa.CopyRun(elements, "from", "to", width))
            {
                w.Line(copy);
            }
            w.Close();
            w.Close();
            w.Open("else");
            w.Open("for (int p = 0; p < depth; p++)");
            EmitDepthRun(w, op, t);
            w.Open($"for (int {i} = 0; {i} < {op.Count}; {i}++)");
            w.Line($"{SimdIsa.Element("to", i)} = {elements.AsFloat(SimdIsa.Element("from", i))};");
            w.Close();
            w.Open($"for (int {i} = {op.Count}; {i} < {op.Width}; {i}++)");
            w.Line($"{SimdIsa.Element("to", i)} = 0f;");
            w.Close();
            w.Close();
            w.Close();
        }
        else
        {
            // Full slivers: a group of lines at a time, one reference per line, so each depth
            // writes the group's values side by side; edge slivers: line by line, zeros after.
            int group = LineGroup(width);
            bool oneGroup = group == width;
            string first = oneGroup ? "" : " + firstLine";
            w.Open($"if ({op.Count} == {op.Width})");
            if (!oneGroup)
            {
                w.Open($"for (int firstLine = 0; firstLine < {op.Width}; firstLine += {Invariant.Int(group)})");
            }
            string firstRow = oneGroup ? $"(nint){op.Start}" : $"(nint)({op.Start} + firstLine)";
            w.Line($"ref {t} line0 = ref {SimdIsa.Element("source", $"{firstRow} * {op.Ld} + p0")};");
            for (int line = 1; line < group; line++)
            {
                w.Line($"ref {t} line{Invariant.Int(line)} = ref {SimdIsa.Element("line" + Invariant.Int(line - 1), op.Ld)};");
            }
            w.Open("for (int p = 0; p < depth; p++)");
            w.Line($"ref float to = ref {SimdIsa.Element("packed", $"p * {op.Width}{first}")};");
            for (int line = 0; line < group; line++)
            {
                w.Line($"{SimdIsa.Element("to", line)} = {elements.AsFloat(SimdIsa.Element("line" + Invariant.Int(line), "p"))};");
            }
            w.Close();
            if (!oneGroup)
            {
                w.Close();
            }
            w.Close();
            w.Open("else");
            w.Open($"for (int {i} = 0; {i} < {op.Count}; {i}++)");
            w.Line($"ref {t} line = ref {SimdIsa.Element("source", $"(nint)({op.Start} + {i}) * {op.Ld} + p0")};");
            w.Open("for (int p = 0; p < depth; p++)");
            w.Line($"{SimdIsa.Element("packed", $"p * {op.Width} + {i}")} = {elements.AsFloat(SimdIsa.Element("line", "p"))};");
            w.Close();
            w.Close();
            w.Line("// Lines past the edge of the matrix are zero, so the microkernel always computes a full tile.");
            w.Open($"for (int {i} = {op.Count}; {i} < {op.Width}; {i}++)");
            w.Open("for (int p = 0; p < depth; p++)");
            w.Line($"{SimdIsa.Element("packed", $"p * {op.Width} + {i}")} = 0f;");
            w.Close();
            w.Close();
            w.Close();
        }
        w.Close();
    }

    /// <summary>Lines packed together in a transposing copy: at most 8 (one general register each), dividing the sliver width.</summary>
    private static int LineGroup(int width)
    {
        int group = System.Math.Min(width, 8);
        while (width % group != 0)
        {
            group--;
        }
        return group;
    }

    private static void EmitDepthRun(CodeWriter w, PackedOperand op, string type)
    {
        w.Line($"ref {type} from = ref {SimdIsa.Element("source", $"(nint)(p0 + p) * {op.Ld} + {op.Start}")};");
        w.Line($"ref float to = ref {SimdIsa.Element("packed", $"p * {op.Width}")};");
    }

    /// <summary>
    /// The Mr×Nr register tile: Mr·(Nr/lanes) accumulators, one k loop of broadcast-FMAs over the
    /// packed slivers, then the epilogue on the tile of C in place (the driver hands edge tiles in
    /// as a zero-padded copy, so this is the only epilogue).
    /// </summary>
    private static void EmitMicroKernel(CodeWriter w, SimdIsa isa, CpuBlocking blocking, EpilogueSpec epilogue)
    {
        int rows = blocking.Mr, vectors = blocking.Nr / blocking.Lanes, lanes = blocking.Lanes;
        string V(int j) => Invariant.Int(j);
        string Acc(int r, int j) => $"acc{V(r)}_{V(j)}";

        w.Line(Optimized);
        w.Open("public static void MicroKernel(int depth, ref readonly float packedA, ref readonly float packedB, ref float c, int ldc, ref readonly float bias, float alpha, float beta, bool lastBlock)");
        w.Line($"ref float a = ref {Unsafe}.AsRef(in packedA);");
        w.Line($"ref float b = ref {Unsafe}.AsRef(in packedB);");
        w.Line($"// acc{{row}}_{{vector}}: {(isa.IsScalar ? "element" : "vector")} {{vector}} of row {{row}} of the tile.");
        for (int r = 0; r < rows; r++)
        {
            for (int j = 0; j < vectors; j++)
            {
                w.Line($"var {Acc(r, j)} = {isa.Zero};");
            }
        }
        w.Open("for (int p = 0; p < depth; p++)");
        w.Line($"// b{{vector}}: depth p of the B sliver; a{{row}}: depth p of row {{row}} of the A sliver, broadcast.");
        for (int j = 0; j < vectors; j++)
        {
            w.Line($"var b{V(j)} = {isa.Load("b", j * lanes)};");
        }
        for (int r = 0; r < rows; r++)
        {
            w.Line($"var a{V(r)} = {isa.Broadcast(SimdIsa.Element("a", r))};");
            for (int j = 0; j < vectors; j++)
            {
                w.Line($"{Acc(r, j)} = {isa.MultiplyAdd("a" + V(r), "b" + V(j), Acc(r, j))};");
            }
        }
        w.Line($"a = ref {SimdIsa.Element("a", "Mr")};");
        w.Line($"b = ref {SimdIsa.Element("b", "Nr")};");
        w.Close();
        w.Line();

        w.Line("// Epilogue on rows c0…: α·acc, + β·c unless β = 0" + (HasLastBlockWork(epilogue) ? ", then after the last K block " + LastBlockWork(epilogue) : "") + ".");
        w.Line("ref float c0 = ref c;");
        for (int r = 1; r < rows; r++)
        {
            w.Line($"ref float c{V(r)} = ref {SimdIsa.Element("c" + V(r - 1), "ldc")};");
        }
        string alphas = isa.IsScalar ? "alpha" : "alphaVector", betas = isa.IsScalar ? "beta" : "betaVector";
        if (!isa.IsScalar)
        {
            w.Line($"var {alphas} = {isa.Broadcast("alpha")};");
        }
        ForEachAccumulator(rows, vectors, (r, j) => w.Line($"{Acc(r, j)} *= {alphas};"));
        w.Open("if (beta != 0f)");
        if (!isa.IsScalar)
        {
            w.Line($"var {betas} = {isa.Broadcast("beta")};");
        }
        ForEachAccumulator(rows, vectors, (r, j) => w.Line($"{Acc(r, j)} = {isa.MultiplyAdd(betas, isa.Load("c" + V(r), j * lanes), Acc(r, j))};"));
        w.Close();
        if (HasLastBlockWork(epilogue))
        {
            w.Open("if (lastBlock)");
            if (epilogue.Bias)
            {
                w.Line($"ref float biasRow = ref {Unsafe}.AsRef(in bias);");
                for (int j = 0; j < vectors; j++)
                {
                    w.Line($"var bias{V(j)} = {isa.Load("biasRow", j * lanes)};");
                }
            }
            ForEachAccumulator(rows, vectors, (r, j) =>
            {
                string value = epilogue.Bias ? $"{Acc(r, j)} + bias{V(j)}" : Acc(r, j);
                w.Line(epilogue.Activation == Activation.None ? $"{Acc(r, j)} = {value};" : $"{Acc(r, j)} = Activate({value});");
            });
            w.Close();
        }
        ForEachAccumulator(rows, vectors, (r, j) => w.Line(isa.Store(Acc(r, j), "c" + V(r), j * lanes)));
        w.Close();
    }

    private static bool HasLastBlockWork(EpilogueSpec epilogue) => epilogue.Bias || epilogue.Activation != Activation.None;

    private static string LastBlockWork(EpilogueSpec epilogue)
    {
        string act = epilogue.Activation.ToString().ToLowerInvariant();
        return epilogue.Bias
            ? epilogue.Activation == Activation.None ? "+ bias" : $"+ bias and {act}"
            : act;
    }

    private static void ForEachAccumulator(int rows, int vectors, System.Action<int, int> body)
    {
        for (int r = 0; r < rows; r++)
        {
            for (int j = 0; j < vectors; j++)
            {
                body(r, j);
            }
        }
    }

    /// <summary>The activation, the same formulas as the CUDA kernel's epilogue.</summary>
    private static void EmitActivation(CodeWriter w, SimdIsa isa, Activation activation)
    {
        string v = isa.VectorType;
        string one = isa.Broadcast("1f");
        switch (activation)
        {
            case Activation.Relu:
                w.Line("/// <summary>ReLU: max(x, 0).</summary>");
                w.Line($"private static {v} Activate({v} x) => {isa.Max("x", isa.Zero)};");
                break;
            case Activation.Silu:
                w.Line("/// <summary>SiLU: x / (1 + e^(−x)).</summary>");
                w.Line($"private static {v} Activate({v} x) => x / ({one} + {isa.Exp("-x")});");
                break;
            case Activation.Gelu:
                w.Line("/// <summary>GELU, tanh form: x / (1 + e^(−2u)) with u = √(2/π)·(x + 0.044715·x³), which equals 0.5·x·(1 + tanh(u)).</summary>");
                w.Open($"private static {v} Activate({v} x)");
                w.Line($"var u = {isa.Broadcast("0.7978845608f")} * (x + {isa.Broadcast("0.044715f")} * x * x * x);");
                w.Line($"return x / ({one} + {isa.Exp(isa.Broadcast("-2f") + " * u")});");
                w.Close();
                break;
        }
    }
}
