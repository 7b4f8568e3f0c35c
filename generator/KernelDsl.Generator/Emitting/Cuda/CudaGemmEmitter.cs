using System.Globalization;
using KernelDsl.Generator.Model;
using KernelDsl.Generator.Planning;

namespace KernelDsl.Generator.Emitting.Cuda;

/// <summary>
/// Prints the CUDA C of a GEMM plan: named constants, device helpers, and one <c>extern "C"</c> kernel
/// that reads load → multiply → store around a cp.async pipeline. How a warp multiplies its tile
/// (CUDA cores or tensor cores) is printed by the plan's <see cref="WarpTileEmitter"/>; everything
/// else is shared. Self-contained (no <c>#include</c>) so any NVRTC from 11.x compiles it for sm_80+.
/// </summary>
internal static class CudaGemmEmitter
{
    public static string Emit(GemmPlan plan)
    {
        var warp = WarpTileEmitter.For(plan);
        var w = new CodeWriter();
        EmitHeader(w, plan, warp);
        warp.Constants(w);
        w.Line();
        PtxPrelude.Emit(w, PtxHelpers.AsyncCopy | PtxPrelude.Conversions(plan.Operands.Output) | warp.PtxHelpers);
        w.Line();
        warp.DeviceFunctions(w);
        w.Line($"typedef {CudaDeviceFunctions.StorageType(plan.Operands.Element)} in_t;  // A and B elements");
        w.Lines(CudaDeviceFunctions.OutputConversions(plan.Operands.Output));
        w.Line();
        w.Lines(CudaDeviceFunctions.Activation(plan.Epilogue.Activation));
        w.Line();
        EmitStore(w, plan);
        w.Line();
        if (plan.Cuda.RasterGroup > 1)
        {
            w.Lines(CudaDeviceFunctions.GroupedTileOrder(plan.Cuda.RasterGroup));
            w.Line();
        }
        EmitKernel(w, plan, warp);
        return w.ToString();
    }

    private static void EmitHeader(CodeWriter w, GemmPlan plan, WarpTileEmitter warp)
    {
        var c = plan.Cuda;
        var o = plan.Operands;
        w.Line($"// KernelDsl: {plan.Kernel.QualifiedName}, {o.Element} GEMM on {warp.Units}, {o.Output} output. Generated; do not edit.");
        w.Line($"//   C = {Formula(plan)}");
        w.Line($"//   op(A) = {(o.TransposeA ? "A^T, A stored K x M" : "A, stored M x K")}; op(B) = {(o.TransposeB ? "B^T, B stored N x K" : "B, stored K x N")}; C is M x N; all row-major.");
        w.Line("//");
        w.Line("// Tiling");
        w.Line($"//   A block of {c.Threads} threads computes a {c.TileM} x {c.TileN} tile of C; its {c.WarpsM} x {c.WarpsN} warps each own a");
        w.Line($"//   {c.WarpTileM} x {c.WarpTileN} warp tile.");
        warp.DescribeWarp(w);
        w.Line($"//   K is walked {c.TileK} at a time. Each step's A and B slices are copied into one of {c.Stages} shared-memory");
        w.Line(c.Stages == 1
            ? "//   stages with cp.async and multiplied once they land (no overlap)."
            : $"//   stages with cp.async, up to {c.Stages - 1} step(s) ahead of the step being multiplied.");
        w.Line("//   Copies of elements outside M, N or K write zeros, which add nothing to the dot products, so ragged");
        w.Line("//   shapes need no special case in the inner loop; only the epilogue checks bounds before storing.");
        w.Line("//");
        warp.DescribeSharedMemory(w);
        w.Line($"//   {c.SharedBytesPerStage} bytes per stage, {c.SharedBytes} bytes in all (dynamic shared memory).");
        w.Line();
    }

    /// <summary>
    /// The epilogue, shared by every kernel: <c>epilogue</c> is the formula C = act(α·acc + β·C + bias) in fp32 on values
    /// already read; <c>store_c</c> applies it to one element (bounds, reads, conversion), <c>store_c_pair</c> (tensor-core
    /// kernels) to two adjacent ones. beta == 0 never reads C.
    /// </summary>
    public static void EmitStore(CodeWriter w, GemmPlan plan)
    {
        bool hasBias = plan.Epilogue.Bias;
        string bias = hasBias ? " const out_t* __restrict__ bias," : "";
        w.Line($"// The epilogue's formula on one element, in fp32: {Formula(plan)}; c is not read when beta == 0.");
        w.Line($"__device__ __forceinline__ float epilogue(float acc, float c,{(hasBias ? " float bias," : "")} float alpha, float beta)");
        w.Line("{");
        w.Line("    float v = alpha * acc;");
        w.Line("    if (beta != 0.0f) v = fmaf(beta, c, v);");
        if (hasBias)
        {
            w.Line("    v += bias;");
        }
        w.Line("    return activation(v);");
        w.Line("}");
        w.Line();
        w.Line("// One element of a row of C that is inside M, converted to the output type. Columns outside N are skipped.");
        w.Line($"__device__ __forceinline__ void store_c(out_t* __restrict__ c_row,{bias} int N, int col, float acc, float alpha, float beta)");
        w.Line("{");
        w.Line("    if (col >= N) return;");
        w.Line($"    c_row[col] = from_float(epilogue(acc, beta != 0.0f ? to_float(c_row[col]) : 0.0f,{(hasBias ? " to_float(bias[col])," : "")} alpha, beta));");
        w.Line("}");
        if (plan.Cuda is MmaGemmPlan)
        {
            EmitPairStore(w, hasBias);
        }
    }

    /// <summary>
    /// Tensor-core accumulators hold two adjacent columns per thread (mma.sync's and wgmma's layouts alike), so the
    /// kernels store them as one 2-element access when C's rows and the bias allow it: the lanes of a row then write
    /// adjacent pairs, whole sectors.
    /// </summary>
    private static void EmitPairStore(CodeWriter w, bool hasBias)
    {
        string bias = hasBias ? " const out_t* __restrict__ bias," : "";
        string biasArgument = hasBias ? " bias," : "";
        w.Line();
        w.Line("struct __align__(2 * sizeof(out_t)) out_pair { out_t x, y; };");
        w.Line();
        w.Line("// Whether C's rows (and the bias) are aligned to 2-element accesses: ldc even, pointers pair-aligned.");
        w.Line($"__device__ __forceinline__ bool c_by_pair(const out_t* C,{bias} int ldc)");
        w.Line("{");
        w.Line($"    return ldc % 2 == 0 && reinterpret_cast<unsigned long long>(C) % sizeof(out_pair) == 0{(hasBias ? " && reinterpret_cast<unsigned long long>(bias) % sizeof(out_pair) == 0" : "")};");
        w.Line("}");
        w.Line();
        w.Line("// Columns col and col + 1 (col even) of a row of C inside M: one 2-element store (and one bias and C read) when");
        w.Line("// by_pair and both are inside N, else element by element.");
        w.Line($"__device__ __forceinline__ void store_c_pair(out_t* __restrict__ c_row,{bias} int N, int col, float v0, float v1, float alpha, float beta, bool by_pair)");
        w.Line("{");
        w.Line("    if (by_pair && col + 1 < N) {");
        w.Line("        out_pair* const at = reinterpret_cast<out_pair*>(c_row + col);");
        w.Line("        const out_pair old = beta != 0.0f ? *at : out_pair{};");
        if (hasBias)
        {
            w.Line("        const out_pair b = *reinterpret_cast<const out_pair*>(bias + col);");
        }
        string x = hasBias ? " to_float(b.x)," : "", y = hasBias ? " to_float(b.y)," : "";
        w.Line($"        const out_pair value = {{from_float(epilogue(v0, to_float(old.x),{x} alpha, beta)), from_float(epilogue(v1, to_float(old.y),{y} alpha, beta))}};");
        w.Line("        *at = value;  // one 2-element store (a braced temporary may be stored member by member)");
        w.Line("        return;");
        w.Line("    }");
        w.Line($"    store_c(c_row,{biasArgument} N, col, v0, alpha, beta);");
        w.Line($"    store_c(c_row,{biasArgument} N, col + 1, v1, alpha, beta);");
        w.Line("}");
    }

    private static void EmitKernel(CodeWriter w, GemmPlan plan, WarpTileEmitter warp)
    {
        string bias = plan.Epilogue.Bias ? " const out_t* __restrict__ bias," : "";
        w.Line($"extern \"C\" __global__ void __launch_bounds__(THREADS, {plan.Cuda.MinBlocksPerMultiprocessor}) {plan.EntryPoint}(");
        w.Line($"    const in_t* __restrict__ A, const in_t* __restrict__ B, out_t* __restrict__ C,{bias}");
        w.Line("    int M, int N, int K, int lda, int ldb, int ldc, float alpha, float beta)");
        w.Line("{");
        w.Line("    extern __shared__ __align__(16) unsigned char shared_bytes[];  // STAGES x (As, Bs)");
        w.Line("    in_t* const shared = reinterpret_cast<in_t*>(shared_bytes);");
        w.Line("    const int tid = threadIdx.x;");
        EmitTileOrigin(w, plan.Cuda.RasterGroup);
        w.Line("    const int warp = tid / 32, lane = tid % 32;");
        w.Line("    const int warp_m = warp / WARPS_N, warp_n = warp % WARPS_N;  // this warp's place in the warp grid");
        warp.LaneSetup(w);
        w.Line();
        w.Line("    // Issue the copies of K slice `tile` into shared stage `stage` (not waited for here).");
        w.Line("    auto load_tile = [&](int stage, int tile) {");
        w.Line("        in_t* As = shared + stage * (A_STAGE + B_STAGE);");
        w.Line("        in_t* Bs = As + A_STAGE;");
        w.Line("        const int k0 = tile * BK;");
        warp.CopyOperand(w, plan.Cuda, 'A');
        warp.CopyOperand(w, plan.Cuda, 'B');
        w.Line("    };");
        w.Line();
        warp.DeclareAccumulators(w);
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
        if (plan.Cuda.StagesUnrolled)
        {
            w.Line("    // STAGES slices per trip: slice `tile` sits in stage s, a constant once unrolled, so its shared offsets");
            w.Line("    // are immediates; the slice issued ahead goes to the stage freed one slice earlier, (s + STAGES - 1) % STAGES.");
            w.Line("    for (int first = 0; first < k_tiles; first += STAGES) {");
            w.Line("        #pragma unroll");
            w.Line("        for (int s = 0; s < STAGES; ++s) {");
            w.Line("            const int tile = first + s;");
            w.Line("            if (tile == k_tiles) break;");
            w.Indent();
            MainLoopStep(w, warp, "(s + STAGES - 1) % STAGES", "s");
            w.Outdent();
            w.Line("        }");
            w.Line("    }");
        }
        else
        {
            w.Line("    for (int tile = 0; tile < k_tiles; ++tile) {");
            MainLoopStep(w, warp, "ahead % STAGES", "(tile % STAGES)");
            w.Line("    }");
        }
        w.Line();
        w.Line("    // Epilogue: every accumulator through the epilogue formula (store_c for single elements).");
        warp.StoreAccumulators(w, plan.Epilogue.Bias);
        w.Line("}");
    }

    /// <summary>block_m, block_n: the corner of this block's tile of C, in the plan's tile order.</summary>
    private static void EmitTileOrigin(CodeWriter w, int rasterGroup)
    {
        if (rasterGroup == 1)
        {
            w.Line("    const int block_m = blockIdx.y * BM, block_n = blockIdx.x * BN;  // this block's tile of C, in row order");
            return;
        }
        w.Line("    int tile_m, tile_n;  // this block's tile of C: the launch's linear block index in grouped order");
        w.Line("    grouped_tile(blockIdx.y * gridDim.x + blockIdx.x, gridDim.y, gridDim.x, tile_m, tile_n);");
        w.Line("    const int block_m = tile_m * BM, block_n = tile_n * BN;");
    }

    /// <summary>One K slice of the main loop: issue the slice STAGES - 1 ahead, wait for slice `tile`, multiply it.</summary>
    private static void MainLoopStep(CodeWriter w, WarpTileEmitter warp, string aheadStage, string tileStage)
    {
        const string indent = "        ";
        w.Line(indent + "const int ahead = tile + STAGES - 1;");
        w.Line(indent + $"if (ahead < k_tiles) load_tile({aheadStage}, ahead);");
        w.Line(indent + "copy_async_commit();");
        w.Line(indent + "copy_async_wait<STAGES - 1>();");
        w.Line(indent + "__syncthreads();  // slice `tile` is in shared memory for every thread");
        w.Line();
        w.Line(indent + $"const in_t* As = shared + {tileStage} * (A_STAGE + B_STAGE);");
        w.Line(indent + "const in_t* Bs = As + A_STAGE;");
        warp.MultiplyStage(w);
        w.Line(indent + "__syncthreads();  // everyone is done with this stage before a later iteration refills it");
    }

    public static string Formula(GemmPlan plan)
    {
        string inner = "alpha * op(A) * op(B) + beta * C" + (plan.Epilogue.Bias ? " + bias" : "");
        return plan.Epilogue.Activation switch
        {
            Activation.None => inner,
            Activation.Gelu => "gelu_tanh(" + inner + ")",
            var other => other.ToString().ToLower(CultureInfo.InvariantCulture) + "(" + inner + ")",
        };
    }
}
