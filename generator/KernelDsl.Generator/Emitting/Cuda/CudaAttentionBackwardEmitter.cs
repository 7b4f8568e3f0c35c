using KernelDsl.Generator.Planning;

namespace KernelDsl.Generator.Emitting.Cuda;

/// <summary>
/// Prints the CUDA C of a ring-attention plan's backward pass (<c>CudaBackwardSource</c>): the backward step kernel
/// (FlashAttention-2 backward of this rank's queries against one K/V shard, adding into fp32 dQ, dK and dV), the
/// D = rowsum(dO ∘ O) kernel and the kernel that writes an fp32 gradient out in the element type. The step kernel's
/// frame is printed here; the warp's math by <see cref="AttentionBackwardWarpEmitter"/> (tensor cores or CUDA cores).
/// The positions, the causal rule and the d-row tile layout are the forward step's.
/// </summary>
internal static class CudaAttentionBackwardEmitter
{
    public static string Emit(AttentionPlan plan, CudaAttentionBackwardPlan b)
    {
        var warp = AttentionBackwardWarpEmitter.For(plan, b);
        var w = new CodeWriter();
        EmitHeader(w, plan, b, warp);
        EmitConstants(w, plan, b);
        warp.Constants(w);
        w.Line();
        PtxPrelude.Emit(w, PtxHelpers.AsyncCopy | PtxHelpers.Exp2 | PtxPrelude.Conversions(plan.Element) | warp.PtxHelpers);
        w.Line();
        w.Line($"typedef {CudaDeviceFunctions.StorageType(plan.Element)} in_t;  // Q, K, V, O and dO elements");
        w.Lines(CudaDeviceFunctions.OutputConversions(plan.Element));
        w.Line();
        CudaAttentionEmitter.EmitPositionAndTileFunctions(w);
        w.Line();
        warp.DeviceFunctions(w);
        EmitStepKernel(w, plan, warp);
        w.Line();
        EmitDeltaKernel(w, plan);
        w.Line();
        EmitGradientKernel(w, plan);
        return w.ToString();
    }

    private static void EmitHeader(CodeWriter w, AttentionPlan plan, CudaAttentionBackwardPlan b, AttentionBackwardWarpEmitter warp)
    {
        w.Line($"// KernelDsl: {plan.Kernel.QualifiedName}, {plan.Element} ring attention backward (d = {plan.HeadDim}{(plan.Causal ? ", causal" : "")}) on {warp.Units}. Generated; do not edit.");
        w.Line("//   Backward step kernel, once per ring step: FlashAttention-2's backward of this rank's queries against one K/V shard.");
        w.Line("//   With the forward's L (natural log; -inf for a row that saw no key) and D = rowsum(dO o O) of each query row:");
        w.Line("//   P = exp(S * scale - L), dV += P^T dO, dP = dO V^T, dS = P o (dP - D), dQ += scale dS K, dK += scale dS^T Q,");
        w.Line("//   all added into fp32 accumulators (dQ [heads][sq][d] of this rank, dK and dV [kv_heads][skv][d] of the shard),");
        w.Line("//   so a ring adds every step into the same buffers and converts once at the end (gradient kernel). Positions, the");
        w.Line("//   causal rule and the tensor layouts are the forward step's; query head h reads K/V head h / (heads / kv_heads).");
        w.Line("//");
        w.Line("// Tiling");
        w.Line($"//   A block of {b.Threads} threads owns {b.TileKv} keys of one K/V head (grid: ceil(skv / {b.TileKv}) x kv_heads), {b.KeysPerWarp} per warp,");
        w.Line("//   whose dK and dV it holds in fp32 registers while the block walks the query tiles of every query head that reads");
        w.Line($"//   its K/V head, {b.TileQ} rows at a time" + (plan.Causal ? " (causally from the first tile whose last query is at or after the block's first key;" : "."));
        if (plan.Causal)
        {
            w.Line("//   a warp skips a tile none of whose queries sees its keys, and masks per element where the diagonal cuts or skv ends).");
        }
        warp.DescribeWarp(w);
        w.Line("//   Blocks over different keys add into the same dQ rows, so dQ's rounding depends on their order (dK and dV have");
        w.Line("//   one writer per row and are deterministic).");
        w.Line("//   Rows past sq read zero Q and dO and L = +inf, so their P is 0; keys past skv read zero K and V and are masked");
        w.Line("//   (P = 0), and their dK, dV rows are not written. A row with L = -inf (no key seen forward) takes L = +inf:");
        w.Line("//   P = 0 and zero gradients, never NaN.");
        w.Line("//");
        w.Line("// Shared memory (dynamic)");
        w.Line($"//   Ks[{b.TileKv}][{b.Chunks}] and Vs[{b.TileKv}][{b.Chunks}] chunks, loaded once; {CudaAttentionBackwardPlan.QStages} stages of Qs[{b.TileQ}][{b.Chunks}] and dOs[{b.TileQ}][{b.Chunks}] (cp.async, the");
        w.Line("//   next tile's copies issued before this tile's math; swizzled as in the forward step); per stage the tile's L and D");
        string ds = b.TensorCores ? $"dSt[{b.TileKv}][{b.DsStride}] 16-bit" : $"dSt[{b.TileKv}][{b.DsStride}] and Pt[{b.TileKv}][{b.DsStride}] fp32";
        w.Line($"//   in fp32 (L pre-multiplied by log2(e)); {ds} (rows padded by 8 elements). {b.SharedBytes} bytes in all.");
        w.Line();
    }

    private static void EmitConstants(CodeWriter w, AttentionPlan plan, CudaAttentionBackwardPlan b)
    {
        w.Line($"constexpr int D = {plan.HeadDim};  // head dimension");
        w.Line($"constexpr int BQ = {b.TileQ}, BKV = {b.TileKv};  // query rows per tile, keys per block");
        w.Line($"constexpr int WARPS = {b.Warps}, THREADS = 32 * WARPS, KPW = {b.KeysPerWarp};  // KPW: keys per warp");
        w.Line($"constexpr int Q_STAGES = {CudaAttentionBackwardPlan.QStages};  // Q/dO double buffering");
        w.Line($"constexpr int CHUNK_ELEMS = {16 / b.ElementBytes}, CHUNKS = D / CHUNK_ELEMS;  // 16-byte chunks per row of Ks, Vs, Qs, dOs");
        w.Line($"constexpr int SWIZZLE = {b.Swizzle.Span}, ROW_GROUP = {b.Swizzle.RowGroup};  // chunk c of row r is stored at c ^ ((r / ROW_GROUP) % SWIZZLE)");
        w.Line("constexpr int Q_TILE = BQ * D, KV_TILE = BKV * D;  // elements");
        w.Line($"constexpr int DS_STRIDE = {b.DsStride};  // elements per dSt row: BQ + 8 of padding");
        w.Line($"constexpr bool CAUSAL = {Literals.Bool(plan.Causal)};");
        w.Line($"constexpr float SCALE = {Literals.Float(plan.Scale)};  // softmax scale");
        w.Line($"constexpr float SCALE_LOG2 = {Literals.Float(plan.ScaleLog2)};  // softmax scale times log2(e)");
        w.Line("constexpr float LOG2E = 1.44269504088896341f;");
        w.Line($"constexpr int DELTA_WARPS = {CudaAttentionBackwardPlan.DeltaWarps}, GRADIENT_THREADS = {plan.Cuda.FinalizeThreads};");
        w.Line("constexpr unsigned FULL_MASK = 0xffffffffu;");
        w.Line("static_assert(BKV == KPW * WARPS, \"the warps split the block's keys\");");
    }

    private static void EmitStepKernel(CodeWriter w, AttentionPlan plan, AttentionBackwardWarpEmitter warp)
    {
        w.Line($"extern \"C\" __global__ void __launch_bounds__(THREADS, 1) {plan.BackwardEntryPoints.Step}(");
        w.Line("    const in_t* __restrict__ Q, const in_t* __restrict__ K, const in_t* __restrict__ V, const in_t* __restrict__ dO,");
        w.Line("    const float* __restrict__ L, const float* __restrict__ Delta,");
        w.Line("    float* __restrict__ dQ, float* __restrict__ dK, float* __restrict__ dV,");
        w.Line("    int heads, int kv_heads, int sq, int skv,");
        w.Line("    int q_start0, int q_len0, int q_stride0, int q_start1, int q_stride1,");
        w.Line("    int kv_start0, int kv_len0, int kv_stride0, int kv_start1, int kv_stride1)");
        w.Line("{");
        w.Lines($$"""
                extern __shared__ __align__(16) unsigned char shared_bytes[];  // Ks, Vs, Q_STAGES x (Qs, dOs), Q_STAGES x (Ls, Ds), dSt, then the warp math's own buffers (SIMT: Pt)
                in_t* const Ks = reinterpret_cast<in_t*>(shared_bytes);
                in_t* const Vs = Ks + KV_TILE;
                in_t* const q_stages = Vs + KV_TILE;                                        // stage s: Qs at s * 2 * Q_TILE, dOs after it
                float* const row_stages = reinterpret_cast<float*>(q_stages + Q_STAGES * 2 * Q_TILE);  // stage s: Ls at s * 2 * BQ, Ds after it
                in_t* const dSt = reinterpret_cast<in_t*>(row_stages + Q_STAGES * 2 * BQ);
                const int tid = threadIdx.x, warp = tid / 32, lane = tid % 32;
                const int kv_head = blockIdx.y, group = heads / kv_heads;
                const int kv0 = blockIdx.x * BKV;             // first local key of the block
                const int kv_rows = min(BKV, skv - kv0);      // its keys inside skv
                if (kv_rows <= 0) return;
                auto q_position = [&](int i) { return position(i, q_start0, q_len0, q_stride0, q_start1, q_stride1); };
                auto kv_position = [&](int j) { return position(j, kv_start0, kv_len0, kv_stride0, kv_start1, kv_stride1); };

                // Query tiles to visit per head: all; causally, from the first whose last query is at or after the block's
                // first key (positions grow with the local row, so the later tiles all see some key of the block).
                const int q_tiles = (sq + BQ - 1) / BQ;
                int first_tile = 0;
                if (CAUSAL) {
                    const int block_first = kv_position(kv0);
                    int lo = 0, hi = q_tiles;
                    while (lo < hi) {
                        const int mid = (lo + hi) / 2;
                        if (q_position(min(sq, (mid + 1) * BQ) - 1) >= block_first) hi = mid; else lo = mid + 1;
                    }
                    first_tile = lo;
                }
                const int tiles_per_head = q_tiles - first_tile, steps = group * tiles_per_head;
                if (steps == 0) return;  // no query sees these keys: nothing to add

                // Issue the copies of K and V (keys past skv zero-filled); waited for with the first Q tile.
                #pragma unroll
                for (int e = tid; e < BKV * CHUNKS; e += THREADS) {
                    const int row = e / CHUNKS, chunk = e % CHUNKS;
                    const bool inside = row < kv_rows;
                    const long long at = ((long long)kv_head * skv + kv0 + row) * D + chunk * CHUNK_ELEMS;
                    copy_async_16(Ks + tile_offset(row, chunk), inside ? K + at : K, inside ? 16 : 0);
                    copy_async_16(Vs + tile_offset(row, chunk), inside ? V + at : V, inside ? 16 : 0);
                }
                // Step `step` is query tile first_tile + step % tiles_per_head of query head kv_head * group + step / tiles_per_head.
                auto step_head = [&](int step) { return kv_head * group + step / tiles_per_head; };
                auto step_q0 = [&](int step) { return (first_tile + step % tiles_per_head) * BQ; };
                // Issue the copies of a step's Q and dO rows into stage `stage` (rows past sq zero-filled) and store its rows'
                // L log2(e) (+inf past sq and for L = -inf, so that P = 0) and D. The stage was last read by the step
                // before the current one, which ended with a barrier.
                auto load_q = [&](int stage, int step) {
                    in_t* const Qs = q_stages + stage * 2 * Q_TILE;
                    in_t* const dOs = Qs + Q_TILE;
                    const int head = step_head(step), q0 = step_q0(step), q_rows = min(BQ, sq - q0);
                    #pragma unroll
                    for (int e = tid; e < BQ * CHUNKS; e += THREADS) {
                        const int row = e / CHUNKS, chunk = e % CHUNKS;
                        const bool inside = row < q_rows;
                        const long long at = ((long long)head * sq + q0 + row) * D + chunk * CHUNK_ELEMS;
                        copy_async_16(Qs + tile_offset(row, chunk), inside ? Q + at : Q, inside ? 16 : 0);
                        copy_async_16(dOs + tile_offset(row, chunk), inside ? dO + at : dO, inside ? 16 : 0);
                    }
                    float* const Ls = row_stages + stage * 2 * BQ;
                    for (int row = tid; row < BQ; row += THREADS) {
                        const float l = row < q_rows ? L[(long long)head * sq + q0 + row] : minus_infinity();
                        Ls[row] = l == minus_infinity() ? -minus_infinity() : l * LOG2E;
                        Ls[BQ + row] = row < q_rows ? Delta[(long long)head * sq + q0 + row] : 0.0f;
                    }
                };

                // This warp's keys and the positions they span (a warp past skv adds nothing but still takes part in dQ).
                const int warp_key0 = KPW * warp;
                const int warp_keys = min(KPW, kv_rows - warp_key0);
                const int key_first = warp_keys > 0 ? kv_position(kv0 + warp_key0) : 0;
                const int key_last = warp_keys > 0 ? kv_position(kv0 + warp_key0 + warp_keys - 1) : 0;
            """);
        warp.DeclareState(w);
        w.Lines("""

                load_q(0, 0);
                copy_async_commit();
                for (int step = 0; step < steps; ++step) {
                    // Start the next step's copies into the other stage, then wait for this step's (and, first, K and V).
                    if (step + 1 < steps) load_q((step + 1) % Q_STAGES, step + 1);
                    copy_async_commit();
                    copy_async_wait<1>();
                    __syncthreads();  // this step's Q, dO, L and D (and K, V) are in shared memory for every thread

                    const in_t* const Qs = q_stages + (step % Q_STAGES) * 2 * Q_TILE;
                    const in_t* const dOs = Qs + Q_TILE;
                    const float* const Ls = row_stages + (step % Q_STAGES) * 2 * BQ;
                    const float* const Ds = Ls + BQ;
                    const int head = step_head(step), q0 = step_q0(step), q_rows = min(BQ, sq - q0);
                    const int query_first = q_position(q0), query_last = q_position(q0 + q_rows - 1);
                    const bool visible = warp_keys > 0 && !(CAUSAL && key_first > query_last);
                    // Per element masking only where the warp has keys past skv or the diagonal cuts its keys and the tile's queries.
                    const bool masked = warp_keys < KPW || (CAUSAL && key_last > query_first);
                    if (visible) {
            """);
        warp.TileMath(w);
        w.Lines("""
                    } else {
            """);
        warp.ZeroDs(w);
        w.Lines("""
                    }
                    __syncthreads();  // every warp's dS^T rows are in dSt
            """);
        w.Line();
        warp.AddDq(w);
        w.Lines("""
                    __syncthreads();  // everyone is done with this stage and dSt before they are refilled
                }
            """);
        w.Line();
        warp.AddKeyGradients(w);
        w.Lines("""
            }
            """);
    }

    private static void EmitDeltaKernel(CodeWriter w, AttentionPlan plan)
    {
        w.Line("// D = rowsum(dO o O) of every query row, once per rank before its backward steps: one warp per row. rows = heads * sq.");
        w.Line($"extern \"C\" __global__ void __launch_bounds__(32 * DELTA_WARPS) {plan.BackwardEntryPoints.Delta}(");
        w.Line("    const in_t* __restrict__ O, const in_t* __restrict__ dO, float* __restrict__ Delta, int rows)");
        w.Line("{");
        w.Lines("""
                const int lane = threadIdx.x % 32;
                for (long long row = blockIdx.x * (long long)DELTA_WARPS + threadIdx.x / 32; row < rows; row += (long long)gridDim.x * DELTA_WARPS) {
                    float sum = 0.0f;
                    for (int c = lane; c < D; c += 32) sum = fmaf(to_float(dO[row * D + c]), to_float(O[row * D + c]), sum);
                    #pragma unroll
                    for (int offset = 16; offset > 0; offset /= 2) sum += __shfl_xor_sync(FULL_MASK, sum, offset);
                    if (lane == 0) Delta[row] = sum;
                }
            }
            """);
    }

    private static void EmitGradientKernel(CodeWriter w, AttentionPlan plan)
    {
        w.Line("// After the last backward step: a gradient in the element type from its fp32 accumulator (round to nearest even).");
        w.Line($"extern \"C\" __global__ void __launch_bounds__(GRADIENT_THREADS) {plan.BackwardEntryPoints.Gradient}(");
        w.Line("    const float* __restrict__ accumulator, out_t* __restrict__ gradient, int count)");
        w.Line("{");
        w.Lines("""
                for (long long i = blockIdx.x * (long long)GRADIENT_THREADS + threadIdx.x; i < count; i += (long long)gridDim.x * GRADIENT_THREADS) {
                    gradient[i] = from_float(accumulator[i]);
                }
            }
            """);
    }
}
