// KernelDsl: KernelDsl.Tests.Emulation.AttentionF32D80, F32 ring attention backward (d = 80) on CUDA cores (SIMT, fp32). Generated; do not edit.
//   Backward step kernel, once per ring step: FlashAttention-2's backward of this rank's queries against one K/V shard.
//   With the forward's L (natural log; -inf for a row that saw no key) and D = rowsum(dO o O) of each query row:
//   P = exp(S * scale - L), dV += P^T dO, dP = dO V^T, dS = P o (dP - D), dQ += scale dS K, dK += scale dS^T Q,
//   all added into fp32 accumulators (dQ [heads][sq][d] of this rank, dK and dV [kv_heads][skv][d] of the shard),
//   so a ring adds every step into the same buffers and converts once at the end (gradient kernel). Positions, the
//   causal rule and the tensor layouts are the forward step's; query head h reads K/V head h / (heads / kv_heads).
//
// Tiling
//   A block of 128 threads owns 32 keys of one K/V head (grid: ceil(skv / 32) x kv_heads), 8 per warp,
//   whose dK and dV it holds in fp32 registers while the block walks the query tiles of every query head that reads
//   its K/V head, 64 rows at a time.
//   A warp's 32 lanes form a 4 x 8 grid (lane_k, lane_c); a lane owns 2 of the warp's keys (lane_k + 4 i).
//   Per query tile it computes S^T and dP^T for those keys and 8 queries (lane_c + 8 j) as float4 dot products over d,
//   P^T = exp2(S^T scale log2(e) - L log2(e)) and dS^T = P^T o (dP^T - D), and writes both to the shared Pt and dSt.
//   After __syncwarp the same lane adds, query by query, P^T dO to dV and dS^T Q to dK for its keys and 3 chunk(s)
//   of 4 head dims (lane_c + 8 c, those below 20). After a barrier the block's threads split the tile's dQ into items of
//   4 consecutive queries x one chunk, each a sum over the block's BKV keys (float4 reads of dSt and Ks), added to
//   global dQ with one fp32 atomic add per element.
//   Per lane: 48 dK and dV accumulators and 32 S^T and dP^T values per tile.
//   Blocks over different keys add into the same dQ rows, so dQ's rounding depends on their order (dK and dV have
//   one writer per row and are deterministic).
//   Rows past sq read zero Q and dO and L = +inf, so their P is 0; keys past skv read zero K and V and are masked
//   (P = 0), and their dK, dV rows are not written. A row with L = -inf (no key seen forward) takes L = +inf:
//   P = 0 and zero gradients, never NaN.
//
// Shared memory (dynamic)
//   Ks[32][20] and Vs[32][20] chunks, loaded once; 2 stages of Qs[64][20] and dOs[64][20] (cp.async, the
//   next tile's copies issued before this tile's math; swizzled as in the forward step); per stage the tile's L and D
//   in fp32 (L pre-multiplied by log2(e)); dSt[32][72] and Pt[32][72] fp32 (rows padded by 8 elements). 121856 bytes in all.

constexpr int D = 80;  // head dimension
constexpr int BQ = 64, BKV = 32;  // query rows per tile, keys per block
constexpr int WARPS = 4, THREADS = 32 * WARPS, KPW = 8;  // KPW: keys per warp
constexpr int Q_STAGES = 2;  // Q/dO double buffering
constexpr int CHUNK_ELEMS = 4, CHUNKS = D / CHUNK_ELEMS;  // 16-byte chunks per row of Ks, Vs, Qs, dOs
constexpr int SWIZZLE = 4, ROW_GROUP = 2;  // chunk c of row r is stored at c ^ ((r / ROW_GROUP) % SWIZZLE)
constexpr int Q_TILE = BQ * D, KV_TILE = BKV * D;  // elements
constexpr int DS_STRIDE = 72;  // elements per dSt row: BQ + 8 of padding
constexpr bool CAUSAL = false;
constexpr float SCALE = 0.1118034f;  // softmax scale
constexpr float SCALE_LOG2 = 0.1612982f;  // softmax scale times log2(e)
constexpr float LOG2E = 1.44269504088896341f;
constexpr int DELTA_WARPS = 8, GRADIENT_THREADS = 256;
constexpr unsigned FULL_MASK = 0xffffffffu;
static_assert(BKV == KPW * WARPS, "the warps split the block's keys");
constexpr int KEY_LANES = 4, COL_LANES = 8;  // the warp's lane grid: keys x (queries or chunks)
constexpr int KR = KPW / KEY_LANES, TQ = BQ / COL_LANES, TD = (CHUNKS + COL_LANES - 1) / COL_LANES;  // a lane's keys, queries, chunks
constexpr int DQ_CHUNKS = TD * COL_LANES, DQ_ITEMS = (BQ / 4) * DQ_CHUNKS;  // items of 4 queries x one chunk (whole groups of 8) of a tile's dQ
static_assert(CHUNK_ELEMS == 4 && KR * KEY_LANES == KPW && TQ * COL_LANES == BQ && DS_STRIDE % 4 == 0 && DQ_ITEMS % 32 == 0, "the lane grid tiles the warp's keys and the query tile; whole warps of dQ items; fp32 elements");

// ---- PTX prelude: the inline-PTX helpers this kernel calls (fixed names). Built with
// ---- -DKERNELDSL_EMULATION, the KernelDsl emulator's header defines the same names instead.
#ifndef KERNELDSL_EMULATION
__device__ __forceinline__ unsigned shared_address(const void* p)
{
    return static_cast<unsigned>(__cvta_generic_to_shared(p));
}

// Asynchronous global -> shared copies (sm_80). src_bytes below the copy size zero-fills the rest,
// which is how out-of-range elements become zeros without a branch around the copy.
__device__ __forceinline__ void copy_async_4(void* dst, const void* src, int src_bytes)
{
    asm volatile("cp.async.ca.shared.global [%0], [%1], 4, %2;\n" :: "r"(shared_address(dst)), "l"(src), "r"(src_bytes));
}

__device__ __forceinline__ void copy_async_16(void* dst, const void* src, int src_bytes)
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

// 2^x on the SFU (about 2 ulp; subnormal results flush to 0); ex2(-inf) = 0.
__device__ __forceinline__ float ex2_approx(float x) { float y; asm("ex2.approx.ftz.f32 %0, %1;" : "=f"(y) : "f"(x)); return y; }
#endif  // KERNELDSL_EMULATION (end of the PTX prelude)

typedef float in_t;  // Q, K, V, O and dO elements
typedef float out_t;
__device__ __forceinline__ float to_float(out_t x) { return x; }
__device__ __forceinline__ out_t from_float(float x) { return x; }

__device__ __forceinline__ float minus_infinity() { return __int_as_float(0xff800000); }

// Global position of local row i of a shard of (at most) two segments.
__device__ __forceinline__ int position(int i, int start0, int len0, int stride0, int start1, int stride1)
{
    return i < len0 ? start0 + i * stride0 : start1 + (i - len0) * stride1;
}

// Element offset of chunk `chunk` of row `row` in a Q, K or V tile, swizzled.
__device__ __forceinline__ int tile_offset(int row, int chunk)
{
    return (row * CHUNKS + (chunk ^ ((row / ROW_GROUP) % SWIZZLE))) * CHUNK_ELEMS;
}

// acc + a . b over one chunk of 4 head dims.
__device__ __forceinline__ float dot4(float4 a, float4 b, float acc)
{
    return fmaf(a.w, b.w, fmaf(a.z, b.z, fmaf(a.y, b.y, fmaf(a.x, b.x, acc))));
}

// acc[i][j] += chunk c of row key + KEY_LANES i of `keys` . chunk c of row query + COL_LANES j of `queries`: one
// chunk of d of the lane's S^T = K Q^T (or dP^T = V dO^T).
__device__ __forceinline__ void dot_chunk(float (&acc)[KR][TQ], const float* keys, const float* queries, int key, int query, int c)
{
    float4 k[KR], q[TQ];
    #pragma unroll
    for (int i = 0; i < KR; ++i) k[i] = *reinterpret_cast<const float4*>(keys + tile_offset(key + KEY_LANES * i, c));
    #pragma unroll
    for (int j = 0; j < TQ; ++j) q[j] = *reinterpret_cast<const float4*>(queries + tile_offset(query + COL_LANES * j, c));
    #pragma unroll
    for (int i = 0; i < KR; ++i) {
        #pragma unroll
        for (int j = 0; j < TQ; ++j) acc[i][j] = dot4(k[i], q[j], acc[i][j]);
    }
}

// acc += s b, elementwise.
__device__ __forceinline__ void add_scaled4(float4& acc, float s, float4 b)
{
    acc.x = fmaf(s, b.x, acc.x);
    acc.y = fmaf(s, b.y, acc.y);
    acc.z = fmaf(s, b.z, acc.z);
    acc.w = fmaf(s, b.w, acc.w);
}

// Chunks are handed out in groups of COL_LANES = 8, one quarter-warp's 16-byte reads (128 bytes, one wavefront).
// Where COL_LANES does not divide CHUNKS the last group is partial: a chunk past the row is not added anywhere,
// and its lane reads a present chunk of the group instead (one a lane of its quarter-warp reads too), so the
// warp stays converged and the read costs no extra wavefront.
__device__ __forceinline__ bool has_chunk(int chunk) { return CHUNKS % COL_LANES == 0 || chunk < CHUNKS; }
__device__ __forceinline__ int read_chunk(int chunk)
{
    const int group = chunk - chunk % COL_LANES;
    return has_chunk(chunk) ? chunk : group + (chunk - group) % (CHUNKS - group);
}
extern "C" __global__ void __launch_bounds__(THREADS, 1) kd_attn_bwd_step_KernelDsl_Tests_Emulation_AttentionF32D80(
    const in_t* __restrict__ Q, const in_t* __restrict__ K, const in_t* __restrict__ V, const in_t* __restrict__ dO,
    const float* __restrict__ L, const float* __restrict__ Delta,
    float* __restrict__ dQ, float* __restrict__ dK, float* __restrict__ dV,
    int heads, int kv_heads, int sq, int skv,
    int q_start0, int q_len0, int q_stride0, int q_start1, int q_stride1,
    int kv_start0, int kv_len0, int kv_stride0, int kv_start1, int kv_stride1)
{
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
    // The lane's place in the grid; dK and dV of its keys warp_key0 + lane_k + KEY_LANES i, chunks lane_c + COL_LANES c
    // (dK without the scale); key_pos[i]: the global position of key i, -1 past skv (its P must be 0, not exp2(-L),
    // which overflows for a row with L below about -88). Pt holds P^T beside dSt, rows as in dSt.
    const int lane_k = lane / COL_LANES, lane_c = lane % COL_LANES;
    float* const Pt = dSt + BKV * DS_STRIDE;
    float4 dk[KR][TD] = {}, dv[KR][TD] = {};
    int key_pos[KR];
    #pragma unroll
    for (int i = 0; i < KR; ++i) {
        const int key = warp_key0 + lane_k + KEY_LANES * i;
        key_pos[i] = key < kv_rows ? kv_position(kv0 + key) : -1;
    }

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
            // S^T = K Q^T and dP^T = V dO^T for the lane's KR keys x TQ queries, one chunk of d at a time.
            // (Not unrolled: KR x TQ dot products per chunk are enough independent work, and unrolling would
            // hoist the next chunks' float4 loads into registers the accumulators need.)
            float st[KR][TQ] = {}, dpt[KR][TQ] = {};
            #pragma unroll 1
            for (int c = 0; c < CHUNKS; ++c) {
                dot_chunk(st, Ks, Qs, warp_key0 + lane_k, lane_c, c);
                dot_chunk(dpt, Vs, dOs, warp_key0 + lane_k, lane_c, c);
            }

            // P^T = exp2(S^T scale log2(e) - L log2(e)), 0 for a key past skv or (causally) after the query;
            // dS^T = P^T o (dP^T - D); both to shared memory for the dV, dK and dQ products.
            #pragma unroll
            for (int j = 0; j < TQ; ++j) {
                const int query = lane_c + COL_LANES * j;
                const float l = Ls[query], delta = Ds[query];
                const int query_pos = CAUSAL && masked ? q_position(q0 + query) : 0;
                #pragma unroll
                for (int i = 0; i < KR; ++i) {
                    float p = ex2_approx(st[i][j] * SCALE_LOG2 - l);
                    if (masked && (key_pos[i] < 0 || (CAUSAL && key_pos[i] > query_pos))) p = 0.0f;
                    const int at = (warp_key0 + lane_k + KEY_LANES * i) * DS_STRIDE + query;
                    Pt[at] = p;
                    dSt[at] = p * (dpt[i][j] - delta);
                }
            }
            __syncwarp();  // the warp's P^T and dS^T rows are complete

            // dV += P^T dO and dK += dS^T Q for the lane's keys and chunks, query by query (not unrolled, as above).
            #pragma unroll 1
            for (int query = 0; query < BQ; ++query) {
                float p[KR], ds[KR];
                #pragma unroll
                for (int i = 0; i < KR; ++i) {
                    const int at = (warp_key0 + lane_k + KEY_LANES * i) * DS_STRIDE + query;
                    p[i] = Pt[at];
                    ds[i] = dSt[at];
                }
                #pragma unroll
                for (int c = 0; c < TD; ++c) {
                    const int chunk = read_chunk(lane_c + COL_LANES * c);
                    const float4 ov = *reinterpret_cast<const float4*>(dOs + tile_offset(query, chunk));
                    const float4 qv = *reinterpret_cast<const float4*>(Qs + tile_offset(query, chunk));
                    #pragma unroll
                    for (int i = 0; i < KR; ++i) {
                        add_scaled4(dv[i][c], p[i], ov);
                        add_scaled4(dk[i][c], ds[i], qv);
                    }
                }
            }
        } else {
            // No key of the warp is seen by the tile (or it has none): its dS^T rows are 0.
            // Written by the lane grid, as the visible branch writes them.
            #pragma unroll
            for (int i = 0; i < KR; ++i) {
                #pragma unroll
                for (int j = 0; j < TQ; ++j) dSt[(warp_key0 + lane_k + KEY_LANES * i) * DS_STRIDE + lane_c + COL_LANES * j] = 0.0f;
            }
        }
        __syncthreads();  // every warp's dS^T rows are in dSt

        // dQ += scale dS K for the tile: items of 4 consecutive queries x one chunk, each a sum over the block's BKV keys.
        for (int item = tid; item < DQ_ITEMS; item += THREADS) {
            const int chunk = item % DQ_CHUNKS, m0 = 4 * (item / DQ_CHUNKS);
            float4 acc[4] = {};
            #pragma unroll 4
            for (int key = 0; key < BKV; ++key) {
                const float4 kv = *reinterpret_cast<const float4*>(Ks + tile_offset(key, read_chunk(chunk)));
                const float4 ds = *reinterpret_cast<const float4*>(dSt + key * DS_STRIDE + m0);
                add_scaled4(acc[0], ds.x, kv);
                add_scaled4(acc[1], ds.y, kv);
                add_scaled4(acc[2], ds.z, kv);
                add_scaled4(acc[3], ds.w, kv);
            }
            #pragma unroll
            for (int r = 0; r < 4; ++r) {
                if (m0 + r >= q_rows || !has_chunk(chunk)) continue;
                float* const at = dQ + ((long long)head * sq + q0 + m0 + r) * D + chunk * CHUNK_ELEMS;
                atomicAdd(at, SCALE * acc[r].x);
                atomicAdd(at + 1, SCALE * acc[r].y);
                atomicAdd(at + 2, SCALE * acc[r].z);
                atomicAdd(at + 3, SCALE * acc[r].w);
            }
        }
        __syncthreads();  // everyone is done with this stage and dSt before they are refilled
    }

    // Add the lane's dK (scaled) and dV into the shard's accumulators: this block is their rows' only writer.
    #pragma unroll
    for (int i = 0; i < KR; ++i) {
        const int key = warp_key0 + lane_k + KEY_LANES * i;
        if (key >= kv_rows) continue;
        const long long row = ((long long)kv_head * skv + kv0 + key) * D;
        #pragma unroll
        for (int c = 0; c < TD; ++c) {
            if (!has_chunk(lane_c + COL_LANES * c)) continue;
            float4* const k_at = reinterpret_cast<float4*>(dK + row + CHUNK_ELEMS * (lane_c + COL_LANES * c));
            float4* const v_at = reinterpret_cast<float4*>(dV + row + CHUNK_ELEMS * (lane_c + COL_LANES * c));
            float4 k_sum = *k_at, v_sum = *v_at;
            add_scaled4(k_sum, SCALE, dk[i][c]);
            add_scaled4(v_sum, 1.0f, dv[i][c]);
            *k_at = k_sum;
            *v_at = v_sum;
        }
    }
}

// D = rowsum(dO o O) of every query row, once per rank before its backward steps: one warp per row. rows = heads * sq.
extern "C" __global__ void __launch_bounds__(32 * DELTA_WARPS) kd_attn_bwd_delta_KernelDsl_Tests_Emulation_AttentionF32D80(
    const in_t* __restrict__ O, const in_t* __restrict__ dO, float* __restrict__ Delta, int rows)
{
    const int lane = threadIdx.x % 32;
    for (long long row = blockIdx.x * (long long)DELTA_WARPS + threadIdx.x / 32; row < rows; row += (long long)gridDim.x * DELTA_WARPS) {
        float sum = 0.0f;
        for (int c = lane; c < D; c += 32) sum = fmaf(to_float(dO[row * D + c]), to_float(O[row * D + c]), sum);
        #pragma unroll
        for (int offset = 16; offset > 0; offset /= 2) sum += __shfl_xor_sync(FULL_MASK, sum, offset);
        if (lane == 0) Delta[row] = sum;
    }
}

// After the last backward step: a gradient in the element type from its fp32 accumulator (round to nearest even).
extern "C" __global__ void __launch_bounds__(GRADIENT_THREADS) kd_attn_bwd_gradient_KernelDsl_Tests_Emulation_AttentionF32D80(
    const float* __restrict__ accumulator, out_t* __restrict__ gradient, int count)
{
    for (long long i = blockIdx.x * (long long)GRADIENT_THREADS + threadIdx.x; i < count; i += (long long)gridDim.x * GRADIENT_THREADS) {
        gradient[i] = from_float(accumulator[i]);
    }
}