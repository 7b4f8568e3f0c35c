using System.Globalization;
using KernelDsl.Generator.Model;
using KernelDsl.Generator.Planning;

namespace KernelDsl.Generator.Emitting.Cuda;

/// <summary>
/// Prints the CUDA C of a fp32 (SIMT) GEMM plan: named constants, the cp.async helpers, and one
/// <c>extern "C"</c> kernel that reads load → multiply → store. Self-contained (no <c>#include</c>)
/// so any NVRTC from 11.x compiles it for sm_80 and newer.
/// </summary>
internal static class CudaGemmEmitter
{
    public static string Emit(GemmPlan plan)
    {
        var w = new CodeWriter();
        EmitHeader(w, plan);
        EmitConstants(w, plan.Cuda);
        EmitAsyncCopy(w);
        EmitActivation(w, plan.Epilogue.Activation);
        EmitKernel(w, plan);
        return w.ToString();
    }

    private static void EmitHeader(CodeWriter w, GemmPlan plan)
    {
        var c = plan.Cuda;
        var o = plan.Operands;
        w.Line($"// KernelDsl: {plan.Kernel.QualifiedName}, fp32 GEMM on CUDA cores (SIMT). Generated; do not edit.");
        w.Line($"//   C = {Formula(plan)}");
        w.Line($"//   op(A) = {(o.TransposeA ? "A^T, A stored K x M" : "A, stored M x K")}; op(B) = {(o.TransposeB ? "B^T, B stored N x K" : "B, stored K x N")}; C is M x N; all row-major.");
        w.Line("//");
        w.Line("// Tiling");
        w.Line($"//   A block of {c.Threads} threads computes a {c.TileM} x {c.TileN} tile of C. Its {c.WarpsM} x {c.WarpsN} warps each own a");
        w.Line($"//   {c.WarpTileM} x {c.WarpTileN} warp tile; the 32 lanes of a warp form a {c.LanesM} x {c.LanesN} grid and each lane keeps a");
        w.Line($"//   {c.ThreadTileM} x {c.ThreadTileN} tile of accumulators in registers ({c.ThreadTileM * c.ThreadTileN} per thread).");
        w.Line($"//   K is walked {c.TileK} at a time. Each step's A and B slices are copied into one of {c.Stages} shared-memory");
        w.Line($"//   stages with cp.async, {(c.Stages == 1 ? "and multiplied once they land (no overlap)" : $"up to {c.Stages - 1} step(s) ahead of the step being multiplied")}.");
        w.Line("//   Copies of elements outside M, N or K write zeros, which add nothing to the dot products, so ragged");
        w.Line("//   shapes need no special case in the inner loop; only the epilogue checks bounds before storing.");
        w.Line("//");
        w.Line("// Shared memory, per stage, K-major: row k holds the slice's M (or N) values at that k, so a lane's");
        w.Line("// consecutive rows (columns) at one k are adjacent and read as float4s.");
        w.Line($"//   As[{c.TileK}][{c.SharedStrideA}]  {Describe(c.A, "M")}");
        w.Line($"//   Bs[{c.TileK}][{c.SharedStrideB}]  {Describe(c.B, "N")}");
        w.Line($"//   {c.SharedBytesPerStage} bytes per stage, {c.SharedBytes} bytes in all (dynamic shared memory).");
        w.Line();
    }

    private static string Describe(OperandCopy copy, string axis)
    {
        string how = copy.ContiguousAlongK
            ? $"{copy.Name} rows run along K: 4-byte copies transpose them; 4 floats of padding per row keep"
              + " the lanes' writes (consecutive k) off a single bank"
            : copy.VectorWidth == 4
                ? $"{copy.Name} rows run along {axis}: 16-byte copies, 4 elements each, when {copy.Name} is 16-byte aligned"
                : $"{copy.Name} rows run along {axis}: 4-byte copies (the tile's {axis} extent is not a multiple of 4)";
        return how;
    }

    private static void EmitConstants(CodeWriter w, CudaGemmPlan c)
    {
        w.Line($"constexpr int BM = {c.TileM}, BN = {c.TileN}, BK = {c.TileK};  // block tile");
        w.Line($"constexpr int WARPS_M = {c.WarpsM}, WARPS_N = {c.WarpsN};  // warp grid");
        w.Line("constexpr int THREADS = 32 * WARPS_M * WARPS_N;");
        w.Line($"constexpr int WTM = {c.WarpTileM}, WTN = {c.WarpTileN};  // warp tile");
        w.Line($"constexpr int LANES_M = {c.LanesM}, LANES_N = {c.LanesN};  // lanes of a warp");
        w.Line($"constexpr int TM = {c.ThreadTileM}, TN = {c.ThreadTileN};  // accumulators per lane");
        w.Line($"constexpr int STAGES = {c.Stages};");
        w.Line($"constexpr int A_STRIDE = {c.SharedStrideA}, B_STRIDE = {c.SharedStrideB};  // floats between k rows in shared memory");
        w.Line("constexpr int A_STAGE = BK * A_STRIDE, B_STAGE = BK * B_STRIDE;  // floats per stage");
        w.Line("static_assert(WARPS_M * WTM == BM && WARPS_N * WTN == BN, \"warps tile the block\");");
        w.Line("static_assert(LANES_M * LANES_N == 32 && LANES_M * TM == WTM && LANES_N * TN == WTN, \"lanes tile the warp\");");
        w.Line();
    }

    private static void EmitAsyncCopy(CodeWriter w)
    {
        w.Lines("""
            // Asynchronous global -> shared copies (sm_80). src_bytes below the copy size zero-fills the rest,
            // which is how out-of-range elements become zeros without a branch around the copy.
            __device__ __forceinline__ unsigned shared_address(const void* p)
            {
                return static_cast<unsigned>(__cvta_generic_to_shared(p));
            }

            __device__ __forceinline__ void copy_async_4(float* dst, const float* src, int src_bytes)
            {
                asm volatile("cp.async.ca.shared.global [%0], [%1], 4, %2;\n" :: "r"(shared_address(dst)), "l"(src), "r"(src_bytes));
            }

            __device__ __forceinline__ void copy_async_16(float* dst, const float* src, int src_bytes)
            {
                asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;\n" :: "r"(shared_address(dst)), "l"(src), "r"(src_bytes));
            }

            __device__ __forceinline__ void copy_async_commit()
            {
                asm volatile("cp.async.commit_group;\n" ::);
            }

            // Wait until at most `pending` committed groups are still in flight.
            template <int pending>
            __device__ __forceinline__ void copy_async_wait()
            {
                asm volatile("cp.async.wait_group %0;\n" :: "n"(pending));
            }
            """);
        w.Line();
    }

    private static void EmitActivation(CodeWriter w, Activation activation)
    {
        string? body = activation switch
        {
            Activation.Relu => "return x > 0.0f ? x : 0.0f;",
            // 0.5·x·(1 + tanh(u)) = x·sigmoid(2u) = x / (1 + e^(−2u)); e^(+large) = inf gives −0, not NaN.
            Activation.Gelu => "const float u = 0.7978845608f * (x + 0.044715f * x * x * x);  // sqrt(2/pi) * (x + 0.044715 x^3)\n"
                             + "return x / (1.0f + expf(-2.0f * u));  // = 0.5 x (1 + tanh(u))",
            Activation.Silu => "return x / (1.0f + expf(-x));",
            _ => null,
        };
        if (body is null)
        {
            return;
        }
        w.Open("__device__ __forceinline__ float activation(float x)");
        w.Lines(body);
        w.Close();
        w.Line();
    }

    private static void EmitKernel(CodeWriter w, GemmPlan plan)
    {
        var c = plan.Cuda;
        string bias = plan.Epilogue.Bias ? " const float* __restrict__ bias," : "";
        w.Line($"extern \"C\" __global__ void __launch_bounds__(THREADS) {plan.EntryPoint}(");
        w.Line($"    const float* __restrict__ A, const float* __restrict__ B, float* __restrict__ C,{bias}");
        w.Line("    int M, int N, int K, int lda, int ldb, int ldc, float alpha, float beta)");
        w.Line("{");
        w.Line("    extern __shared__ __align__(16) float shared[];  // STAGES x (As, Bs)");
        w.Line("    const int tid = threadIdx.x;");
        w.Line("    const int block_m = blockIdx.y * BM, block_n = blockIdx.x * BN;  // this block's tile of C");
        w.Line("    const int warp = tid / 32, lane = tid % 32;");
        w.Line("    // First row and column of this lane's TM x TN accumulators within the block tile.");
        w.Line("    const int row0 = (warp / WARPS_N) * WTM + (lane / LANES_N) * TM;");
        w.Line("    const int col0 = (warp % WARPS_N) * WTN + (lane % LANES_N) * TN;");
        EmitAlignmentChecks(w, c);
        w.Line();
        w.Line("    // Issue the copies of K slice `tile` into shared stage `stage` (not waited for here).");
        w.Line("    auto load_tile = [&](int stage, int tile) {");
        w.Line("        float* As = shared + stage * (A_STAGE + B_STAGE);");
        w.Line("        float* Bs = As + A_STAGE;");
        w.Line("        const int k0 = tile * BK;");
        EmitOperandCopy(w, c.A, "As", "A_STRIDE", "BM", "m", "M", "block_m", "lda");
        EmitOperandCopy(w, c.B, "Bs", "B_STRIDE", "BN", "n", "N", "block_n", "ldb");
        w.Line("    };");
        w.Line();
        EmitMainLoop(w, c);
        w.Line();
        EmitEpilogue(w, plan);
        w.Line("}");
    }

    /// <summary>16-byte copies need 16-byte aligned sources: every row start must be, so the leading dimension is a multiple of 4.</summary>
    private static void EmitAlignmentChecks(CodeWriter w, CudaGemmPlan c)
    {
        foreach (var (copy, ld) in new[] { (c.A, "lda"), (c.B, "ldb") })
        {
            if (copy.VectorWidth == 4)
            {
                w.Line($"    const bool {copy.Name}_by_16 = {ld} % 4 == 0 && reinterpret_cast<unsigned long long>({copy.Name}) % 16 == 0;");
            }
        }
    }

    /// <summary>
    /// Prints the copy of one operand's K slice. <paramref name="index"/>/<paramref name="bound"/>/<paramref name="origin"/>
    /// name the operand's non-K axis (m, M, block_m for A).
    /// </summary>
    private static void EmitOperandCopy(CodeWriter w, OperandCopy copy, string shared, string stride, string extent, string index, string bound, string origin, string ld)
    {
        string p = copy.Name;
        if (copy.ContiguousAlongK)
        {
            w.Line($"        // {p} rows run along K: consecutive threads take consecutive k (coalesced reads) and transpose into {shared}[k][{index}].");
            w.Line($"        #pragma unroll");
            w.Line($"        for (int e = tid; e < {extent} * BK; e += THREADS) {{");
            w.Line($"            const int {index} = e / BK, k = e % BK;");
            w.Line($"            const bool inside = {origin} + {index} < {bound} && k0 + k < K;");
            w.Line($"            const float* src = inside ? {p} + (long long)({origin} + {index}) * {ld} + (k0 + k) : {p};");
            w.Line($"            copy_async_4(&{shared}[k * {stride} + {index}], src, inside ? 4 : 0);");
            w.Line("        }");
            return;
        }
        string scalar = string.Join("\n",
            $"#pragma unroll",
            $"for (int e = tid; e < BK * {extent}; e += THREADS) {{",
            $"    const int k = e / {extent}, {index} = e % {extent};",
            $"    const bool inside = k0 + k < K && {origin} + {index} < {bound};",
            $"    const float* src = inside ? {p} + (long long)(k0 + k) * {ld} + ({origin} + {index}) : {p};",
            $"    copy_async_4(&{shared}[k * {stride} + {index}], src, inside ? 4 : 0);",
            "}");
        w.Line($"        // {p} rows run along {bound}: row k of the slice is a contiguous run of {extent} elements.");
        if (copy.VectorWidth == 1)
        {
            w.Lines(Indent(scalar, 2));
            return;
        }
        w.Line($"        if ({p}_by_16) {{");
        w.Line("            // Four elements per copy; a run cut by the edge copies what is inside and zero-fills the rest.");
        w.Line("            #pragma unroll");
        w.Line($"            for (int e = tid; e < BK * ({extent} / 4); e += THREADS) {{");
        w.Line($"                const int k = e / ({extent} / 4), {index} = e % ({extent} / 4) * 4;");
        w.Line($"                const int count = k0 + k < K ? min(max({bound} - ({origin} + {index}), 0), 4) : 0;");
        w.Line($"                const float* src = count > 0 ? {p} + (long long)(k0 + k) * {ld} + ({origin} + {index}) : {p};");
        w.Line($"                copy_async_16(&{shared}[k * {stride} + {index}], src, count * 4);");
        w.Line("            }");
        w.Line("        } else {");
        w.Lines(Indent(scalar, 3));
        w.Line("        }");
    }

    private static void EmitMainLoop(CodeWriter w, CudaGemmPlan c)
    {
        w.Line("    float acc[TM][TN] = {};");
        w.Line("    const int k_tiles = (K + BK - 1) / BK;");
        w.Line();
        w.Line("    // Prologue: start the first STAGES - 1 slices. Every iteration commits a group, even an empty");
        w.Line("    // one, so \"all but the newest STAGES - 1 groups\" is always the slice about to be multiplied.");
        w.Line("    #pragma unroll");
        w.Line("    for (int s = 0; s < STAGES - 1; ++s) {");
        w.Line("        if (s < k_tiles) load_tile(s, s);");
        w.Line("        copy_async_commit();");
        w.Line("    }");
        w.Line();
        w.Line("    for (int tile = 0; tile < k_tiles; ++tile) {");
        w.Line("        const int ahead = tile + STAGES - 1;");
        w.Line("        if (ahead < k_tiles) load_tile(ahead % STAGES, ahead);");
        w.Line("        copy_async_commit();");
        w.Line("        copy_async_wait<STAGES - 1>();");
        w.Line("        __syncthreads();  // slice `tile` is in shared memory for every thread");
        w.Line();
        w.Line("        const float* As = shared + (tile % STAGES) * (A_STAGE + B_STAGE);");
        w.Line("        const float* Bs = As + A_STAGE;");
        w.Line("        #pragma unroll");
        w.Line("        for (int k = 0; k < BK; ++k) {");
        w.Line("            float a[TM], b[TN];");
        EmitFragmentRead(w, "a", "TM", "As", "A_STRIDE", "row0", c.ReadWidthA);
        EmitFragmentRead(w, "b", "TN", "Bs", "B_STRIDE", "col0", c.ReadWidthB);
        w.Line("            #pragma unroll");
        w.Line("            for (int i = 0; i < TM; ++i) {");
        w.Line("                #pragma unroll");
        w.Line("                for (int j = 0; j < TN; ++j) acc[i][j] = fmaf(a[i], b[j], acc[i][j]);");
        w.Line("            }");
        w.Line("        }");
        w.Line("        __syncthreads();  // everyone is done with this stage before a later iteration refills it");
        w.Line("    }");
    }

    private static void EmitFragmentRead(CodeWriter w, string fragment, string count, string shared, string stride, string origin, int width)
    {
        w.Line("            #pragma unroll");
        if (width == 4)
        {
            w.Line($"            for (int i = 0; i < {count}; i += 4) *reinterpret_cast<float4*>(&{fragment}[i]) = *reinterpret_cast<const float4*>(&{shared}[k * {stride} + {origin} + i]);");
        }
        else
        {
            w.Line($"            for (int i = 0; i < {count}; ++i) {fragment}[i] = {shared}[k * {stride} + {origin} + i];");
        }
    }

    private static void EmitEpilogue(CodeWriter w, GemmPlan plan)
    {
        var e = plan.Epilogue;
        w.Line($"    // Epilogue: C = {Formula(plan)}; beta == 0 never reads C.");
        w.Line("    #pragma unroll");
        w.Line("    for (int i = 0; i < TM; ++i) {");
        w.Line("        const int row = block_m + row0 + i;");
        w.Line("        if (row >= M) break;");
        w.Line("        float* c_row = C + (long long)row * ldc;");
        w.Line("        #pragma unroll");
        w.Line("        for (int j = 0; j < TN; ++j) {");
        w.Line("            const int col = block_n + col0 + j;");
        w.Line("            if (col >= N) break;");
        w.Line("            float v = alpha * acc[i][j];");
        w.Line("            if (beta != 0.0f) v = fmaf(beta, c_row[col], v);");
        if (e.Bias)
        {
            w.Line("            v += bias[col];");
        }
        w.Line(e.Activation == Activation.None ? "            c_row[col] = v;" : "            c_row[col] = activation(v);");
        w.Line("        }");
        w.Line("    }");
    }

    private static string Formula(GemmPlan plan)
    {
        string inner = "alpha * op(A) * op(B) + beta * C" + (plan.Epilogue.Bias ? " + bias" : "");
        return plan.Epilogue.Activation switch
        {
            Activation.None => inner,
            Activation.Gelu => "gelu_tanh(" + inner + ")",
            var other => other.ToString().ToLower(CultureInfo.InvariantCulture) + "(" + inner + ")",
        };
    }

    private static string Indent(string block, int levels)
    {
        string pad = new(' ', 4 * levels);
        return pad + block.Replace("\n", "\n" + pad);
    }
}
