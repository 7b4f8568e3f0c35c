using KernelDsl.Generator.Planning;

namespace KernelDsl.Generator.Emitting.Cuda;

/// <summary>fp32 on CUDA cores: each lane an outer product of TM values of A and TN of B per k, from K-major shared memory.</summary>
internal sealed class SimtWarpTileEmitter(SimtGemmPlan plan) : WarpTileEmitter
{
    public override string Units => "CUDA cores (SIMT)";

    public override void DescribeWarp(CodeWriter w)
    {
        w.Line($"//   The 32 lanes of a warp form a {plan.LanesM} x {plan.LanesN} grid; each lane keeps {plan.LaneTileM} x {plan.LaneTileN} accumulators");
        w.Line($"//   in registers ({plan.LaneTileM * plan.LaneTileN} per thread), one FMA per element per k. A lane's rows come in runs of A_READ");
        w.Line("//   (its columns in runs of B_READ), LANES_M * A_READ apart: lanes side by side own adjacent runs, so their");
        w.Line("//   shared-memory reads are adjacent float4s and their stores of C (and reads of bias) adjacent 16-byte runs.");
    }

    public override void DescribeSharedMemory(CodeWriter w)
    {
        w.Line("// Shared memory, per stage, K-major: row k holds the slice's M (or N) values at that k, so a lane's");
        w.Line("// consecutive rows (columns) at one k are adjacent and read as float4s.");
        w.Line($"//   As[{plan.TileK}][{plan.SharedStrideA}]  {Describe(plan.A, "M")}");
        w.Line($"//   Bs[{plan.TileK}][{plan.SharedStrideB}]  {Describe(plan.B, "N")}");
    }

    private static string Describe(OperandCopy copy, string axis)
        => copy.ContiguousAlongK
            ? $"{copy.Name} rows run along K: 4-byte copies transpose them (rows padded by 4 floats against bank conflicts)"
            : copy.VectorWidth == 4
                ? $"{copy.Name} rows run along {axis}: 16-byte copies of 4 elements when {copy.Name} is 16-byte aligned"
                : $"{copy.Name} rows run along {axis}: 4-byte copies (the tile's {axis} extent is not a multiple of 4)";

    public override void Constants(CodeWriter w)
    {
        w.Line($"constexpr int BM = {plan.TileM}, BN = {plan.TileN}, BK = {plan.TileK};  // block tile");
        w.Line($"constexpr int WARPS_M = {plan.WarpsM}, WARPS_N = {plan.WarpsN};  // warp grid");
        w.Line("constexpr int THREADS = 32 * WARPS_M * WARPS_N;");
        w.Line($"constexpr int WTM = {plan.WarpTileM}, WTN = {plan.WarpTileN};  // warp tile");
        w.Line($"constexpr int LANES_M = {plan.LanesM}, LANES_N = {plan.LanesN};  // lanes of a warp");
        w.Line($"constexpr int TM = {plan.LaneTileM}, TN = {plan.LaneTileN};  // accumulators per lane");
        w.Line($"constexpr int A_READ = {plan.ReadWidthA}, B_READ = {plan.ReadWidthB};  // a lane's rows (columns) per run: one float4, or one float");
        w.Line($"constexpr int STAGES = {plan.Stages};");
        w.Line($"constexpr int A_STRIDE = {plan.SharedStrideA}, B_STRIDE = {plan.SharedStrideB};  // floats between k rows in shared memory");
        w.Line("constexpr int A_STAGE = BK * A_STRIDE, B_STAGE = BK * B_STRIDE;  // floats per stage");
        w.Line("static_assert(WARPS_M * WTM == BM && WARPS_N * WTN == BN, \"warps tile the block\");");
        w.Line("static_assert(LANES_M * LANES_N == 32 && LANES_M * TM == WTM && LANES_N * TN == WTN, \"lanes tile the warp\");");
    }

    public override PtxHelpers PtxHelpers => PtxHelpers.None;

    public override void DeviceFunctions(CodeWriter w)
    {
    }

    public override void LaneSetup(CodeWriter w)
    {
        w.Line("    // First row and column of this lane's accumulators within the block tile: accumulator (i, j) is row");
        w.Line("    // row0 + i / A_READ * LANES_M * A_READ + i % A_READ and column col0 + j / B_READ * LANES_N * B_READ + j % B_READ.");
        w.Line("    const int row0 = warp_m * WTM + (lane / LANES_N) * A_READ;");
        w.Line("    const int col0 = warp_n * WTN + (lane % LANES_N) * B_READ;");
        foreach (var copy in new[] { plan.A, plan.B })
        {
            if (copy.VectorWidth == 4)
            {
                // 16-byte copies need 16-byte aligned sources: every row start must be, so ld is a multiple of 4.
                string ld = copy.Name == "A" ? "lda" : "ldb";
                w.Line($"    const bool {copy.Name}_by_16 = {ld} % 4 == 0 && reinterpret_cast<unsigned long long>({copy.Name}) % 16 == 0;  // 16-byte copies allowed");
            }
        }
    }

    public override void CopyOperand(CodeWriter w, CudaGemmPlan cuda, char operand)
    {
        var copy = operand == 'A' ? plan.A : plan.B;
        var x = new Axis(operand);
        string stride = operand + "_STRIDE";
        if (copy.ContiguousAlongK)
        {
            w.Line($"        // {operand} rows run along K: consecutive threads take consecutive k (coalesced reads) and transpose into {x.Shared}[k][{x.Index}].");
            w.Line("        #pragma unroll");
            w.Line($"        for (int e = tid; e < {x.Extent} * BK; e += THREADS) {{");
            w.Line($"            const int {x.Index} = e / BK, k = e % BK;");
            w.Line($"            const bool inside = {x.Origin} + {x.Index} < {x.Bound} && k0 + k < K;");
            w.Line($"            const in_t* src = inside ? {operand} + (long long)({x.Origin} + {x.Index}) * {x.Ld} + (k0 + k) : {operand};");
            w.Line($"            copy_async_4(&{x.Shared}[k * {stride} + {x.Index}], src, inside ? 4 : 0);");
            w.Line("        }");
            return;
        }
        string scalar = string.Join("\n",
            "#pragma unroll",
            $"for (int e = tid; e < BK * {x.Extent}; e += THREADS) {{",
            $"    const int k = e / {x.Extent}, {x.Index} = e % {x.Extent};",
            $"    const bool inside = k0 + k < K && {x.Origin} + {x.Index} < {x.Bound};",
            $"    const in_t* src = inside ? {operand} + (long long)(k0 + k) * {x.Ld} + ({x.Origin} + {x.Index}) : {operand};",
            $"    copy_async_4(&{x.Shared}[k * {stride} + {x.Index}], src, inside ? 4 : 0);",
            "}");
        w.Line($"        // {operand} rows run along {x.Bound}: row k of the slice is a contiguous run of {x.Extent} elements.");
        if (copy.VectorWidth == 1)
        {
            w.Lines(Indent(scalar, 2));
            return;
        }
        w.Line($"        if ({operand}_by_16) {{");
        w.Line("            // Four elements per copy; a run cut by the edge copies what is inside and zero-fills the rest.");
        w.Line("            #pragma unroll");
        w.Line($"            for (int e = tid; e < BK * ({x.Extent} / 4); e += THREADS) {{");
        w.Line($"                const int k = e / ({x.Extent} / 4), {x.Index} = e % ({x.Extent} / 4) * 4;");
        w.Line($"                const int count = k0 + k < K ? min(max({x.Bound} - ({x.Origin} + {x.Index}), 0), 4) : 0;");
        w.Line($"                const in_t* src = count > 0 ? {operand} + (long long)(k0 + k) * {x.Ld} + ({x.Origin} + {x.Index}) : {operand};");
        w.Line($"                copy_async_16(&{x.Shared}[k * {stride} + {x.Index}], src, count * 4);");
        w.Line("            }");
        w.Line("        } else {");
        w.Lines(Indent(scalar, 3));
        w.Line("        }");
    }

    public override void DeclareAccumulators(CodeWriter w) => w.Line("    float acc[TM][TN] = {};");

    public override void MultiplyStage(CodeWriter w)
    {
        w.Line("        #pragma unroll");
        w.Line("        for (int k = 0; k < BK; ++k) {");
        w.Line("            float a[TM], b[TN];");
        ReadFragment(w, "a", "TM", "As", "A_STRIDE", "row0", "LANES_M", plan.ReadWidthA);
        ReadFragment(w, "b", "TN", "Bs", "B_STRIDE", "col0", "LANES_N", plan.ReadWidthB);
        w.Line("            #pragma unroll");
        w.Line("            for (int i = 0; i < TM; ++i) {");
        w.Line("                #pragma unroll");
        w.Line("                for (int j = 0; j < TN; ++j) acc[i][j] = fmaf(a[i], b[j], acc[i][j]);");
        w.Line("            }");
        w.Line("        }");
    }

    private static void ReadFragment(CodeWriter w, string fragment, string count, string shared, string stride, string origin, string lanes, int width)
    {
        w.Line("            #pragma unroll");
        w.Line(width == 4
            ? $"            for (int i = 0; i < {count}; i += 4) *reinterpret_cast<float4*>(&{fragment}[i]) = *reinterpret_cast<const float4*>(&{shared}[k * {stride} + {origin} + i * {lanes}]);"
            : $"            for (int i = 0; i < {count}; ++i) {fragment}[i] = {shared}[k * {stride} + {origin} + i * {lanes}];");
    }

    public override void StoreAccumulators(CodeWriter w, bool bias)
    {
        string biasArgument = bias ? " bias," : "";
        if (plan.ReadWidthB == 4)
        {
            // A run of 4 columns goes out as one 16-byte store when C's rows (and the bias) are 16-byte aligned.
            string biasAligned = bias ? " && reinterpret_cast<unsigned long long>(bias) % 16 == 0" : "";
            w.Line($"    const bool C_by_16 = ldc % 4 == 0 && reinterpret_cast<unsigned long long>(C) % 16 == 0{biasAligned};");
        }
        w.Line("    #pragma unroll");
        w.Line("    for (int i = 0; i < TM; ++i) {");
        w.Line("        const int row = block_m + row0 + i / A_READ * LANES_M * A_READ + i % A_READ;");
        w.Line("        if (row >= M) continue;");
        w.Line("        out_t* c_row = C + (long long)row * ldc;");
        w.Line("        #pragma unroll");
        w.Line("        for (int j = 0; j < TN; j += B_READ) {");
        w.Line("            const int col = block_n + col0 + j / B_READ * LANES_N * B_READ;");
        if (plan.ReadWidthB == 4)
        {
            string biasValue = bias ? " b.{0}," : "";
            w.Line("            if (C_by_16 && col + 3 < N) {");
            w.Line("                const float4 old = beta != 0.0f ? *reinterpret_cast<const float4*>(c_row + col) : make_float4(0.0f, 0.0f, 0.0f, 0.0f);");
            if (bias)
            {
                w.Line("                const float4 b = *reinterpret_cast<const float4*>(bias + col);");
            }
            w.Line("                *reinterpret_cast<float4*>(c_row + col) = make_float4(");
            w.Line($"                    epilogue(acc[i][j], old.x,{string.Format(biasValue, "x")} alpha, beta), epilogue(acc[i][j + 1], old.y,{string.Format(biasValue, "y")} alpha, beta),");
            w.Line($"                    epilogue(acc[i][j + 2], old.z,{string.Format(biasValue, "z")} alpha, beta), epilogue(acc[i][j + 3], old.w,{string.Format(biasValue, "w")} alpha, beta));");
            w.Line("                continue;");
            w.Line("            }");
        }
        w.Line($"            for (int e = 0; e < B_READ; ++e) store_c(c_row,{biasArgument} N, col + e, acc[i][j + e], alpha, beta);");
        w.Line("        }");
        w.Line("    }");
    }

    private static string Indent(string block, int levels)
    {
        string pad = new(' ', 4 * levels);
        return pad + block.Replace("\n", "\n" + pad);
    }
}
