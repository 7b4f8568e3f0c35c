using KernelDsl.Generator.Planning;

namespace KernelDsl.Generator.Emitting.Cuda;

/// <summary>
/// Prints the CUDA C of a ring-attention plan: named constants, device helpers, the step kernel (one ring step:
/// FlashAttention-2 forward of the Q shard against one KV shard, fused with the exact merge into the running
/// fp32 O and log-sum-exp) and the finalize kernel. How a warp multiplies (tensor cores or CUDA cores) is printed
/// by the plan's <see cref="AttentionWarpEmitter"/>; the frame — positions, tile visibility, the cp.async
/// pipeline — is shared. Self-contained (no <c>#include</c>) so any NVRTC from 11.x compiles it for sm_80+.
/// </summary>
internal static class CudaAttentionEmitter
{
    public static string Emit(AttentionPlan plan)
    {
        var warp = AttentionWarpEmitter.For(plan);
        var w = new CodeWriter();
        EmitHeader(w, plan, warp);
        EmitConstants(w, plan);
        warp.Constants(w);
        w.Line();
        PtxPrelude.Emit(w, PtxHelpers.AsyncCopy | PtxHelpers.Exp2 | PtxPrelude.Conversions(plan.Element) | warp.PtxHelpers);
        w.Line();
        w.Line($"typedef {CudaDeviceFunctions.StorageType(plan.Element)} in_t;  // Q, K and V elements");
        w.Lines(CudaDeviceFunctions.OutputConversions(plan.Element));
        w.Line();
        EmitSharedFunctions(w);
        w.Line();
        warp.DeviceFunctions(w);
        EmitStepKernel(w, plan, warp);
        w.Line();
        EmitFinalizeKernel(w, plan);
        return w.ToString();
    }

    private static void EmitHeader(CodeWriter w, AttentionPlan plan, AttentionWarpEmitter warp)
    {
        var c = plan.Cuda;
        w.Line($"// KernelDsl: {plan.Kernel.QualifiedName}, {plan.Element} ring attention (d = {plan.HeadDim}{(plan.Causal ? ", causal" : "")}) on {warp.Units}. Generated; do not edit.");
        w.Line("//   Step kernel, once per ring step: O_step = softmax(Q K^T * scale" + (plan.Causal ? " + causal mask" : "") + ") V for this rank's Q shard against");
        w.Line("//   one KV shard, merged in the same launch into the running fp32 state (O_run normalised, L_run = natural-log");
        w.Line("//   log-sum-exp, -inf for a row that has seen no key). Finalize kernel, after the last step: O = O_run in the");
        w.Line("//   element type, L = L_run. Q is [heads][sq][d], K and V [kv_heads][skv][d], O_run [heads][sq][d], row-major;");
        w.Line("//   query head h reads KV head h / (heads / kv_heads).");
        w.Line("//");
        w.Line("// Positions");
        w.Line("//   A shard is at most two segments of global positions: local row i < len0 is at start0 + i * stride0, a later");
        w.Line("//   row at start1 + (i - len0) * stride1. Positions grow with the local index in every ring layout, so a run of");
        w.Line("//   rows spans [position(first), position(last)], and a causal block (query i sees key j iff j <= i) is decided");
        w.Line("//   from its ends: no key visible when the first key follows the last query, all visible when the last key is at");
        w.Line("//   or before the first query, otherwise masked element by element.");
        w.Line("//");
        w.Line("// Tiling");
        w.Line($"//   A block of {c.Threads} threads owns {c.TileQ} query rows of one head (grid: ceil(sq / {c.TileQ}) x heads); each of its {c.Warps} warps");
        w.Line($"//   owns {c.RowsPerWarp} rows. The block walks the KV shard {c.TileKv} keys at a time" + (plan.Causal ? ", up to the first tile whose" : "; it masks"));
        w.Line(plan.Causal
            ? "//   first key follows its last query; a warp skips a tile none of whose keys its rows see, and masks per"
            : "//   per element only the last tile, cut by skv.");
        if (plan.Causal)
        {
            w.Line("//   element only tiles cut by skv or by the diagonal.");
        }
        warp.DescribeWarp(w);
        w.Line("//   Online softmax (FlashAttention-2) in fp32 and base 2: S is scaled by scale * log2(e), p = exp2(S - m) with m");
        w.Line("//   the running row max; when m grows, O and the row sum are rescaled by exp2(m_old - m_new). A row that has seen");
        w.Line("//   no key keeps m = -inf and uses 0 in its place, so every exp2 is of -inf (0) and never NaN.");
        w.Line("//   After the last tile the step's partial is o = O / l and lse = m * ln 2 + ln l (-inf and 0 when l = 0), merged");
        w.Line("//   into the running state: L = max + log1p(exp(min - max)), O = e^(La - L) Oa + e^(Lb - L) Ob; a step partial");
        w.Line("//   with Lb = -inf leaves the row untouched and a running row with La = -inf takes the step's partial as is.");
        w.Line("//");
        w.Line("// Shared memory (dynamic)");
        w.Line($"//   Qs[{c.TileQ}][{c.Chunks}], then {CudaAttentionPlan.KvStages} stages of Ks[{c.TileKv}][{c.Chunks}] and Vs[{c.TileKv}][{c.Chunks}]: rows of 16-byte chunks of {c.ChunkElements} elements,");
        w.Line("//   the global layout, so one chunk is one cp.async (rows past sq or skv are zero-filled). The chunk index is");
        w.Line("//   XOR-swizzled with the row's place in a 128-byte window: 8 rows read at one chunk index hit 8 bank groups.");
        w.Line("//   Q is loaded once; K and V are double-buffered: tile t + 1's copies are issued before tile t's math.");
        if (!c.TensorCores)
        {
            w.Line($"//   Then Ps[{c.TileQ}][{c.PStride}] fp32: each warp's P for its rows, from the S lanes to the O lanes (rows padded by {c.PStride - c.TileKv}).");
        }
        w.Line($"//   {c.SharedBytes} bytes in all.");
        w.Line();
    }

    private static void EmitConstants(CodeWriter w, AttentionPlan plan)
    {
        var c = plan.Cuda;
        w.Line($"constexpr int D = {plan.HeadDim};  // head dimension");
        w.Line($"constexpr int BQ = {c.TileQ}, BKV = {c.TileKv};  // query rows per block, keys per KV tile");
        w.Line($"constexpr int WARPS = {c.Warps}, THREADS = 32 * WARPS;");
        w.Line("constexpr int RW = BQ / WARPS;  // query rows per warp");
        w.Line($"constexpr int KV_STAGES = {CudaAttentionPlan.KvStages};  // K/V double buffering");
        w.Line($"constexpr int CHUNK_ELEMS = {c.ChunkElements}, CHUNKS = D / CHUNK_ELEMS;  // 16-byte chunks per row of Qs, Ks, Vs");
        w.Line($"constexpr int SWIZZLE = {c.Swizzle.Span}, ROW_GROUP = {c.Swizzle.RowGroup};  // chunk c of row r is stored at c ^ ((r / ROW_GROUP) % SWIZZLE)");
        w.Line("constexpr int Q_TILE = BQ * D, KV_TILE = BKV * D;  // elements");
        w.Line($"constexpr int TILE_BYTES = {c.TileBytes};  // Qs + KV_STAGES x (Ks + Vs)");
        w.Line($"constexpr bool CAUSAL = {Literals.Bool(plan.Causal)};");
        w.Line($"constexpr float SCALE_LOG2 = {Literals.Float(plan.ScaleLog2)};  // softmax scale {Literals.Float(plan.Scale)} times log2(e)");
        w.Line("constexpr float LN2 = 0.693147180559945309f;");
        w.Line($"constexpr int FINALIZE_THREADS = {c.FinalizeThreads};");
        w.Line("constexpr unsigned FULL_MASK = 0xffffffffu;");
        w.Line("static_assert(RW * WARPS == BQ && BKV % 16 == 0 && D % 16 == 0, \"warps split the rows; whole 16-key and 16-dim steps\");");
    }

    /// <summary>−∞, the global position of a shard's row and the swizzled offset of a chunk in a d-row tile: the forward and backward steps' shared helpers.</summary>
    internal static void EmitPositionAndTileFunctions(CodeWriter w)
    {
        w.Lines($$"""
            __device__ __forceinline__ float minus_infinity() { return __int_as_float(0xff800000); }

            // Global position of local row i of a shard of (at most) two segments.
            __device__ __forceinline__ int position(int i, int start0, int len0, int stride0, int start1, int stride1)
            {
                return i < len0 ? start0 + i * stride0 : start1 + (i - len0) * stride1;
            }

            // Element offset of chunk `chunk` of row `row` in a Q, K or V tile, swizzled.
            __device__ __forceinline__ int tile_offset(int row, int chunk)
            {
                return {{AttentionFragments.TileOffset}};
            }
            """);
    }

    private static void EmitSharedFunctions(CodeWriter w)
    {
        EmitPositionAndTileFunctions(w);
        w.Lines("""

            // Merge of two partials over disjoint keys, (la, Oa) running and (lb, Ob) of this step with lb finite:
            // returns L = max + log1p(e) with e = exp(min - max), and sets the weights wa = e^(la - L), wb = e^(lb - L)
            // of O = wa Oa + wb Ob, computed as 1 / (1 + e) and e / (1 + e) from the difference rather than from the
            // rounded L (at |L| ~ 1e4 an ulp of L is 1e-3), as the CPU's AttentionMerge does. A running row that has
            // seen no key (la = -inf) takes the step's partial exactly.
            __device__ __forceinline__ float merge_lse(float la, float lb, float& wa, float& wb)
            {
                if (la == minus_infinity()) { wa = 0.0f; wb = 1.0f; return lb; }
                const bool running_is_max = la >= lb;
                const float hi = running_is_max ? la : lb, e = expf((running_is_max ? lb : la) - hi);
                const float hi_weight = 1.0f / (1.0f + e), lo_weight = e * hi_weight;
                wa = running_is_max ? hi_weight : lo_weight;
                wb = running_is_max ? lo_weight : hi_weight;
                return hi + log1pf(e);
            }

            """);
    }

    private static void EmitStepKernel(CodeWriter w, AttentionPlan plan, AttentionWarpEmitter warp)
    {
        w.Line($"extern \"C\" __global__ void __launch_bounds__(THREADS, {plan.Cuda.MinBlocksPerMultiprocessor}) {plan.StepEntryPoint}(");
        w.Line("    const in_t* __restrict__ Q, const in_t* __restrict__ K, const in_t* __restrict__ V,");
        w.Line("    float* __restrict__ O_run, float* __restrict__ L_run,");
        w.Line("    int heads, int kv_heads, int sq, int skv,");
        w.Line("    int q_start0, int q_len0, int q_stride0, int q_start1, int q_stride1,");
        w.Line("    int kv_start0, int kv_len0, int kv_stride0, int kv_start1, int kv_stride1)");
        w.Line("{");
        w.Lines("""
                extern __shared__ __align__(16) unsigned char shared_bytes[];  // Qs, then KV_STAGES x (Ks, Vs)
                in_t* const Qs = reinterpret_cast<in_t*>(shared_bytes);
                const int tid = threadIdx.x, warp = tid / 32, lane = tid % 32;
                const int head = blockIdx.y, kv_head = head / (heads / kv_heads);
                // Causally a later query tile sees more keys (positions grow with the local row in every layout), so the
                // tiles go heaviest first: the GPU starts blocks in index order, and the light ones then fill the last wave.
                const int q_tile = CAUSAL ? gridDim.x - 1 - blockIdx.x : blockIdx.x;
                const int q0 = q_tile * BQ;                // first local query row of the block
                const int q_rows = min(BQ, sq - q0);       // its rows inside sq
                if (q_rows <= 0) return;
                auto q_position = [&](int i) { return position(i, q_start0, q_len0, q_stride0, q_start1, q_stride1); };
                auto kv_position = [&](int j) { return position(j, kv_start0, kv_len0, kv_stride0, kv_start1, kv_stride1); };

                // KV tiles to visit: all; causally, the prefix whose first key is at or before the block's last query.
                int kv_tiles = (skv + BKV - 1) / BKV;
                if (CAUSAL) {
                    const int block_last = q_position(q0 + q_rows - 1);
                    int lo = 0, hi = kv_tiles;
                    while (lo < hi) {
                        const int mid = (lo + hi) / 2;
                        if (kv_position(mid * BKV) <= block_last) lo = mid + 1; else hi = mid;
                    }
                    kv_tiles = lo;
                }
                if (kv_tiles == 0) return;  // no key visible: the running state stays as it is

                const in_t* const q_src = Q + ((long long)head * sq + q0) * D;
                const in_t* const k_src = K + (long long)kv_head * skv * D;
                const in_t* const v_src = V + (long long)kv_head * skv * D;

                // Issue the copies of the Q tile (not waited for here); rows past sq are zero-filled.
                auto load_q = [&]() {
                    #pragma unroll
                    for (int e = tid; e < BQ * CHUNKS; e += THREADS) {
                        const int row = e / CHUNKS, chunk = e % CHUNKS;
                        const bool inside = row < q_rows;
                        copy_async_16(Qs + tile_offset(row, chunk), inside ? q_src + row * D + chunk * CHUNK_ELEMS : Q, inside ? 16 : 0);
                    }
                };
                // Issue the copies of KV tile `tile` into stage `stage`; keys past skv are zero-filled (V too, so 0 * V stays 0).
                auto load_kv = [&](int stage, int tile) {
                    in_t* const Ks = Qs + Q_TILE + stage * 2 * KV_TILE;
                    in_t* const Vs = Ks + KV_TILE;
                    const int kv0 = tile * BKV;
                    #pragma unroll
                    for (int e = tid; e < BKV * CHUNKS; e += THREADS) {
                        const int row = e / CHUNKS, chunk = e % CHUNKS;
                        const bool inside = kv0 + row < skv;
                        const long long at = (long long)(kv0 + row) * D + chunk * CHUNK_ELEMS;
                        copy_async_16(Ks + tile_offset(row, chunk), inside ? k_src + at : K, inside ? 16 : 0);
                        copy_async_16(Vs + tile_offset(row, chunk), inside ? v_src + at : V, inside ? 16 : 0);
                    }
                };

                // This warp's rows and the positions they span (a warp past the block's last row does no math).
                const int warp_row0 = warp * RW;
                const int warp_rows = min(RW, q_rows - warp_row0);
                const int warp_first = warp_rows > 0 ? q_position(q0 + warp_row0) : 0;
                const int warp_last = warp_rows > 0 ? q_position(q0 + warp_row0 + warp_rows - 1) : -1;

            """);
        w.Line();
        warp.DeclareState(w);
        w.Lines("""

                load_q();
                load_kv(0, 0);
                copy_async_commit();
                for (int tile = 0; tile < kv_tiles; ++tile) {
                    // Start the next tile's copies into the other stage, then wait for this tile's (one group per tile;
                    // the last iteration commits an empty group so "all but the newest" is always this tile).
                    if (tile + 1 < kv_tiles) load_kv((tile + 1) % KV_STAGES, tile + 1);
                    copy_async_commit();
                    copy_async_wait<1>();
                    __syncthreads();  // tile `tile` (and Q) is in shared memory for every thread

                    const in_t* const Ks = Qs + Q_TILE + (tile % KV_STAGES) * 2 * KV_TILE;
                    const in_t* const Vs = Ks + KV_TILE;
                    const int kv0 = tile * BKV, kv_count = min(BKV, skv - kv0);
                    const int key_first = kv_position(kv0), key_last = kv_position(kv0 + kv_count - 1);
                    const bool visible = warp_rows > 0 && !(CAUSAL && key_first > warp_last);
                    if (visible) {
                        // Per element only when a key lies past skv or after some row's position.
                        const bool masked = kv_count < BKV || (CAUSAL && key_last > warp_first);
            """);
        warp.AttendTile(w);
        w.Lines("""
                    }
                    __syncthreads();  // everyone is done with this stage before a later iteration refills it
                }
                if (warp_rows <= 0) return;

            """);
        warp.Merge(w);
        w.Line("}");
    }

    private static void EmitFinalizeKernel(CodeWriter w, AttentionPlan plan)
    {
        string store = plan.Element == Model.Element.F32
            ? "        reinterpret_cast<float4*>(O)[i] = v;"
            : """
                      uint2 packed;
                      packed.x = static_cast<unsigned>(from_float(v.x)) | (static_cast<unsigned>(from_float(v.y)) << 16);
                      packed.y = static_cast<unsigned>(from_float(v.z)) | (static_cast<unsigned>(from_float(v.w)) << 16);
                      reinterpret_cast<uint2*>(O)[i] = packed;
              """;
        w.Line("// After the last ring step: O = O_run in the element type, L = L_run. rows = heads * sq; 4 elements per thread.");
        w.Line($"extern \"C\" __global__ void __launch_bounds__(FINALIZE_THREADS) {plan.FinalizeEntryPoint}(");
        w.Line("    const float* __restrict__ O_run, const float* __restrict__ L_run, out_t* __restrict__ O, float* __restrict__ L, int rows)");
        w.Line("{");
        w.Line("    const long long quads = (long long)rows * (D / 4);");
        w.Line("    for (long long i = blockIdx.x * (long long)FINALIZE_THREADS + threadIdx.x; i < quads; i += (long long)gridDim.x * FINALIZE_THREADS) {");
        w.Line("        const float4 v = reinterpret_cast<const float4*>(O_run)[i];");
        w.Lines(store);
        w.Line("        if (i < rows) L[i] = L_run[i];");
        w.Line("    }");
        w.Line("}");
    }
}
