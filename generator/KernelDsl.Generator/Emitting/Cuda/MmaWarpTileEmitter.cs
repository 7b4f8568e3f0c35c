using KernelDsl.Generator.Model;
using KernelDsl.Generator.Planning;

namespace KernelDsl.Generator.Emitting.Cuda;

/// <summary>
/// 16-bit operands on tensor cores: shared tiles keep the global layout in swizzled 16-byte chunks,
/// ldmatrix(.trans) turns them into mma.sync fragments, fp32 accumulators live in registers.
/// </summary>
internal sealed class MmaWarpTileEmitter(MmaGemmPlan plan, Element element) : WarpTileEmitter
{
    public override string Units => "tensor cores (mma.sync m16n8k16, fp32 accumulate)";

    public override void DescribeWarp(CodeWriter w)
    {
        w.Line($"//   A warp tile is {plan.MmaTilesM} x {plan.MmaTilesN} MMA tiles of 16 x 8; per 16-deep k step the warp loads {plan.MmaTilesM} A");
        w.Line($"//   fragments (16 x 16) and {plan.MmaTilesN} B fragments (16 x 8, two per ldmatrix.x4) and issues {plan.MmaTilesM * plan.MmaTilesN} MMAs.");
        w.Line($"//   A lane holds 4 fp32 accumulators per MMA tile ({plan.MmaTilesM * plan.MmaTilesN * 4} in all): rows g and g + 8, columns 2t and");
        w.Line("//   2t + 1 of the tile, with g = lane / 4 and t = lane % 4.");
    }

    public override void DescribeSharedMemory(CodeWriter w)
    {
        w.Line("// Shared memory keeps each operand's global layout, cut into 16-byte chunks of 8 elements, so a global");
        w.Line("// chunk is one 16-byte cp.async. ldmatrix reads one chunk from each of 8 consecutive rows; a row of C chunks");
        w.Line("// starts in bank group (r * C) % 8, which repeats every ROW_GROUP rows, so chunk c of row r is stored at");
        w.Line("// c ^ ((r / ROW_GROUP) % SWIZZLE): the 8 chunks land in 8 different bank groups (conflict-free), each whole.");
        Describe(w, plan.A, "M");
        Describe(w, plan.B, "N");
    }

    private static void Describe(CodeWriter w, MmaOperand operand, string axis)
    {
        string rows = operand.ContiguousAlongK ? axis : "K";
        string along = operand.ContiguousAlongK ? "K" : axis;
        string ldmatrix = operand.ContiguousAlongK ? "ldmatrix" : "ldmatrix.trans";
        w.Line($"//   {operand.Name}s: {operand.Rows} rows ({rows}) x {operand.Chunks} chunks along {along}; fragments by {ldmatrix}.");
    }

    public override void Constants(CodeWriter w)
    {
        w.Line($"constexpr int BM = {plan.TileM}, BN = {plan.TileN}, BK = {plan.TileK};  // block tile");
        w.Line($"constexpr int WARPS_M = {plan.WarpsM}, WARPS_N = {plan.WarpsN};  // warp grid");
        w.Line("constexpr int THREADS = 32 * WARPS_M * WARPS_N;");
        w.Line($"constexpr int WTM = {plan.WarpTileM}, WTN = {plan.WarpTileN};  // warp tile");
        w.Line("constexpr int MI = WTM / 16, NI = WTN / 8;  // MMA tiles (16 x 8) per warp tile");
        w.Line($"constexpr int STAGES = {plan.Stages};");
        foreach (var operand in new[] { plan.A, plan.B })
        {
            string p = operand.Name;
            w.Line($"constexpr int {p}_ROWS = {operand.Rows}, {p}_CHUNKS = {operand.Chunks};  // {p}s: rows x 16-byte chunks per stage");
            w.Line($"constexpr int {p}_SWIZZLE = {operand.SwizzleSpan}, {p}_ROW_GROUP = {operand.SwizzleRowGroup};");
            if (operand.CopyPasses > 0)
            {
                w.Line($"constexpr int {p}_COPY_ROWS = {operand.CopyRows}, {p}_PASSES = {operand.CopyPasses};  // {p}s copied in passes of COPY_ROWS rows, one chunk a thread");
                w.Line($"static_assert({p}_COPY_ROWS * {p}_CHUNKS == THREADS && {p}_COPY_ROWS % 8 == 0 && {p}_PASSES * {p}_COPY_ROWS == {p}_ROWS, \"fixed copy passes\");");
            }
        }
        w.Line("constexpr int A_STAGE = A_ROWS * A_CHUNKS * 8, B_STAGE = B_ROWS * B_CHUNKS * 8;  // elements per stage");
        w.Line("static_assert(WARPS_M * WTM == BM && WARPS_N * WTN == BN, \"warps tile the block\");");
        w.Line("static_assert(WTM % 16 == 0 && WTN % 16 == 0 && BK % 16 == 0, \"whole MMA tiles; B fragments come in pairs\");");
    }

    public override PtxHelpers PtxHelpers => PtxPrelude.TensorCores(element);

    public override void DeviceFunctions(CodeWriter w)
    {
        foreach (var operand in new[] { plan.A, plan.B })
        {
            EmitOffset(w, operand);
            EmitFragmentAddress(w, operand);
        }
    }

    private static void EmitOffset(CodeWriter w, MmaOperand operand)
    {
        string p = operand.Name;
        w.Line($"// Element offset of chunk `chunk` of row `row` in a stage of {p}s, swizzled.");
        w.Line($"__device__ __forceinline__ int {p.ToLowerInvariant()}_offset(int row, int chunk)");
        w.Line("{");
        w.Line($"    return {GemmFragments.Offset(p)};");
        w.Line("}");
        w.Line();
    }

    /// <summary>The address this lane gives ldmatrix.x4 for the 16×16 block at (mn, k), by <see cref="GemmFragments"/>.</summary>
    private static void EmitFragmentAddress(CodeWriter w, MmaOperand operand)
    {
        string p = operand.Name;
        string lower = p.ToLowerInvariant();
        string order = p == "A"
            ? "matrices (mn, k) = (0-7, 0-7), (8-15, 0-7), (0-7, 8-15), (8-15, 8-15) give a0..a3"
            : "matrices (n, k) = (0-7, 0-7), (0-7, 8-15), (8-15, 0-7), (8-15, 8-15) give b0, b1 of two n-tiles";
        w.Line($"// Lane's ldmatrix address for the 16 x 16 block of {p} at ({(p == "A" ? "m" : "n")} = mn, k): lane l names row l % 8 of matrix l / 8;");
        w.Line($"// {order}.");
        w.Line($"__device__ __forceinline__ int {lower}_fragment(int mn, int k)");
        w.Line("{");
        w.Line("    const int lane = threadIdx.x % 32, q = lane / 8, r = lane % 8;");
        w.Line($"    return {lower}_offset({GemmFragments.Row(operand)}, {GemmFragments.Chunk(operand)});");
        w.Line("}");
        w.Line();
    }

    /// <summary>
    /// For an operand copied in fixed passes, what a thread's copies keep for the whole kernel: its stored row and
    /// chunk in pass 0, their swizzled shared offset (pass i adds COPY_ROWS rows, a whole number of swizzle periods,
    /// so the chunk keeps its slot), its source pointer without the K slice, and how much of M (N) its rows or chunk see.
    /// </summary>
    public override void LaneSetup(CodeWriter w)
    {
        foreach (var operand in new[] { plan.A, plan.B })
        {
            if (operand.ContiguousAlongK)
            {
                string l = operand.Name.ToLowerInvariant(), origin = operand.Name == "A" ? "warp_m * WTM" : "warp_n * WTN";
                w.Line($"    // Lane's ldmatrix byte offset in a stage of {operand.Name}s for each 16-deep k step, at the warp tile's first rows; the");
                w.Line($"    // next 16 rows are two whole swizzle periods on, so they add {16} * {operand.Name}_CHUNKS * 16 bytes, an immediate offset.");
                w.Line($"    int {l}_frag[BK / 16];");
                w.Line("    #pragma unroll");
                w.Line($"    for (int step = 0; step < BK / 16; ++step) {l}_frag[step] = {l}_fragment({origin}, step * 16) * (int)sizeof(in_t);");
            }
        }
        foreach (var (operand, name) in new[] { (plan.A, 'A'), (plan.B, 'B') })
        {
            if (operand.CopyPasses == 0)
            {
                continue;
            }
            var x = new Axis(name);
            string p = operand.Name, l = p.ToLowerInvariant();
            w.Line($"    // {p} copies: this thread copies chunk {l}_chunk of stored rows {l}_row + {p}_COPY_ROWS * i (i < {p}_PASSES) in every K slice.");
            w.Line($"    const int {l}_row = tid / {p}_CHUNKS, {l}_chunk = tid % {p}_CHUNKS;");
            w.Line($"    const int {l}_smem = {l}_offset({l}_row, {l}_chunk);");
            w.Line($"    const long long {l}_pass = (long long){p}_COPY_ROWS * {x.Ld};  // source elements between passes");
            if (operand.ContiguousAlongK)
            {
                w.Line($"    const int {l}_rows_inside = {x.Bound} - ({x.Origin} + {l}_row);  // pass i is inside {x.Bound} when {p}_COPY_ROWS * i < this");
                w.Line($"    const in_t* const {l}_src = {name} + (long long)({x.Origin} + {l}_row) * {x.Ld} + {l}_chunk * 8;  // + k0 per slice");
            }
            else
            {
                w.Line($"    const int {l}_count = min(max({x.Bound} - ({x.Origin} + {l}_chunk * 8), 0), 8);  // elements of the chunk inside {x.Bound}");
                w.Line($"    const in_t* const {l}_src = {name} + (long long){l}_row * {x.Ld} + {x.Origin} + {l}_chunk * 8;  // + k0 rows per slice");
            }
        }
    }

    public override void CopyOperand(CodeWriter w, CudaGemmPlan cuda, char operand)
    {
        var o = operand == 'A' ? plan.A : plan.B;
        var x = new Axis(operand);
        string lower = o.Name.ToLowerInvariant();
        if (o.CopyPasses > 0)
        {
            CopyInPasses(w, o, x, operand);
            return;
        }
        w.Line("        #pragma unroll");
        w.Line($"        for (int e = tid; e < {o.Name}_ROWS * {o.Name}_CHUNKS; e += THREADS) {{");
        w.Line($"            const int row = e / {o.Name}_CHUNKS, chunk = e % {o.Name}_CHUNKS;");
        if (o.ContiguousAlongK)
        {
            // K % 8 == 0 (checked at launch), so a chunk along K is wholly inside or outside.
            w.Line($"            // {operand} rows run along K: row = {x.Index}, chunk = 8 k's, wholly inside or outside since K % 8 == 0.");
            w.Line($"            const int g{x.Index} = {x.Origin} + row, gk = k0 + chunk * 8;");
            w.Line($"            const bool inside = g{x.Index} < {x.Bound} && gk < K;");
            w.Line($"            const in_t* src = inside ? {operand} + (long long)g{x.Index} * {x.Ld} + gk : {operand};");
            w.Line($"            copy_async_16(&{x.Shared}[{lower}_offset(row, chunk)], src, inside ? 16 : 0);");
        }
        else
        {
            w.Line($"            // {operand} rows run along {x.Bound}: row = k, chunk = 8 {x.Index}'s; a chunk cut by {x.Bound} copies what is inside, zero-fills the rest.");
            w.Line($"            const int gk = k0 + row, g{x.Index} = {x.Origin} + chunk * 8;");
            w.Line($"            const int count = gk < K ? min(max({x.Bound} - g{x.Index}, 0), 8) : 0;");
            w.Line($"            const in_t* src = count > 0 ? {operand} + (long long)gk * {x.Ld} + g{x.Index} : {operand};");
            w.Line($"            copy_async_16(&{x.Shared}[{lower}_offset(row, chunk)], src, count * 2);");
        }
        w.Line("        }");
    }

    /// <summary>
    /// One K slice of an operand copied in fixed passes (<see cref="LaneSetup"/> holds the per-thread part). A copy of 0
    /// source bytes reads nothing (PTX <c>cp.async</c>'s src-size; CUTLASS's zero-fill copies rely on it too), so an
    /// element outside the matrix needs no valid pointer, only a source size of 0: no select per copy.
    /// </summary>
    private static void CopyInPasses(CodeWriter w, MmaOperand o, Axis x, char operand)
    {
        string p = o.Name, l = p.ToLowerInvariant();
        string destination = $"&{x.Shared}[{l}_smem + i * ({p}_COPY_ROWS * {p}_CHUNKS * 8)]";
        if (o.ContiguousAlongK)
        {
            w.Line($"        {{  // {operand} rows run along K: K % 8 == 0 (checked at launch), so a chunk of 8 k's is wholly inside or outside.");
            w.Line($"            const bool k_inside = k0 + {l}_chunk * 8 < K;");
            w.Line("            #pragma unroll");
            w.Line($"            for (int i = 0; i < {p}_PASSES; ++i) {{");
            w.Line($"                const bool inside = k_inside && {p}_COPY_ROWS * i < {l}_rows_inside;");
            w.Line($"                copy_async_16({destination}, {l}_src + k0 + i * {l}_pass, inside ? 16 : 0);");
        }
        else
        {
            w.Line($"        {{  // {operand} rows run along {x.Bound}: row = k, chunk = 8 {x.Index}'s; a chunk cut by {x.Bound} copies what is inside, zero-fills the rest.");
            w.Line($"            const in_t* const slice = {l}_src + (long long)k0 * {x.Ld};");
            w.Line("            #pragma unroll");
            w.Line($"            for (int i = 0; i < {p}_PASSES; ++i) {{");
            w.Line($"                const int count = k0 + {l}_row + {p}_COPY_ROWS * i < K ? {l}_count : 0;");
            w.Line($"                copy_async_16({destination}, slice + i * {l}_pass, count * 2);");
        }
        w.Line("            }");
        w.Line("        }");
    }

    public override void DeclareAccumulators(CodeWriter w) => w.Line("    float acc[MI][NI][4] = {};");

    public override void MultiplyStage(CodeWriter w)
    {
        string loadA = plan.A.ContiguousAlongK ? "ldmatrix_x4" : "ldmatrix_x4_trans";
        string loadB = plan.B.ContiguousAlongK ? "ldmatrix_x4" : "ldmatrix_x4_trans";
        w.Line("        #pragma unroll");
        w.Line("        for (int kk = 0; kk < BK; kk += 16) {");
        w.Line("            unsigned a[MI][4], b[NI][2];");
        w.Line("            #pragma unroll");
        w.Line($"            for (int i = 0; i < MI; ++i) {loadA}(a[i], {FragmentAddress(plan.A, "warp_m * WTM + i * 16", "i")});");
        w.Line("            #pragma unroll");
        w.Line("            for (int j = 0; j < NI; j += 2) {");
        w.Line("                unsigned pair[4];");
        w.Line($"                {loadB}(pair, {FragmentAddress(plan.B, "warp_n * WTN + j * 8", "j / 2")});");
        w.Line("                b[j][0] = pair[0]; b[j][1] = pair[1]; b[j + 1][0] = pair[2]; b[j + 1][1] = pair[3];");
        w.Line("            }");
        w.Line("            #pragma unroll");
        w.Line("            for (int i = 0; i < MI; ++i) {");
        w.Line("                #pragma unroll");
        w.Line($"                for (int j = 0; j < NI; ++j) {PtxPrelude.MmaName(element)}(acc[i][j], a[i], b[j]);");
        w.Line("            }");
        w.Line("        }");
    }

    /// <summary>
    /// The address of a lane's ldmatrix for the 16×16 block at <paramref name="mn"/>, the <paramref name="block"/>-th
    /// block of 16 rows of the warp tile: a K-contiguous operand's from the hoisted offsets plus whole 16-row steps,
    /// another's from its fragment function (its blocks differ in chunk, which the swizzle does not shift linearly).
    /// </summary>
    private static string FragmentAddress(MmaOperand operand, string mn, string block)
    {
        string p = operand.Name, l = p.ToLowerInvariant();
        return operand.ContiguousAlongK
            ? $"reinterpret_cast<const unsigned char*>({p}s) + {l}_frag[kk / 16] + ({block}) * (16 * {p}_CHUNKS * 16)"
            : $"&{p}s[{l}_fragment({mn}, kk)]";
    }

    public override void StoreAccumulators(CodeWriter w, bool bias)
    {
        string biasArgument = bias ? " bias," : "";
        w.Line("    // acc[i][j][2h + e] is row g + 8h, column 2t + e of MMA tile (i, j): a lane's two columns go out together.");
        w.Line($"    const bool by_pair = c_by_pair(C,{biasArgument} ldc);");
        w.Line("    #pragma unroll");
        w.Line("    for (int i = 0; i < MI; ++i) {");
        w.Line("        #pragma unroll");
        w.Line("        for (int h = 0; h < 2; ++h) {");
        w.Line("            const int row = block_m + warp_m * WTM + i * 16 + lane / 4 + h * 8;");
        w.Line("            if (row >= M) continue;");
        w.Line("            out_t* c_row = C + (long long)row * ldc;");
        w.Line("            #pragma unroll");
        w.Line("            for (int j = 0; j < NI; ++j) {");
        w.Line("                const int col = block_n + warp_n * WTN + j * 8 + (lane % 4) * 2;");
        w.Line($"                store_c_pair(c_row,{biasArgument} N, col, acc[i][j][2 * h], acc[i][j][2 * h + 1], alpha, beta, by_pair);");
        w.Line("            }");
        w.Line("        }");
        w.Line("    }");
    }
}
