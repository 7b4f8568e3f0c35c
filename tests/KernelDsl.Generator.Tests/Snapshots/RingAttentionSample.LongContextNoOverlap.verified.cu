// KernelDsl: RingAttentionSample.LongContextNoOverlap, BF16 ring attention (d = 128, causal) on tensor cores (mma.sync m16n8k16, fp32 accumulate). Generated; do not edit.
//   Step kernel, once per ring step: O_step = softmax(Q K^T * scale + causal mask) V for this rank's Q shard against
//   one KV shard, merged in the same launch into the running fp32 state (O_run normalised, L_run = natural-log
//   log-sum-exp, -inf for a row that has seen no key). Finalize kernel, after the last step: O = O_run in the
//   element type, L = L_run. Q is [heads][sq][d], K and V [kv_heads][skv][d], O_run [heads][sq][d], row-major;
//   query head h reads KV head h / (heads / kv_heads).
//
// Positions
//   A shard is at most two segments of global positions: local row i < len0 is at start0 + i * stride0, a later
//   row at start1 + (i - len0) * stride1. Positions grow with the local index in every ring layout, so a run of
//   rows spans [position(first), position(last)], and a causal block (query i sees key j iff j <= i) is decided
//   from its ends: no key visible when the first key follows the last query, all visible when the last key is at
//   or before the first query, otherwise masked element by element.
//
// Tiling
//   A block of 256 threads owns 128 query rows of one head (grid: ceil(sq / 128) x heads); each of its 8 warps
//   owns 16 rows. The block walks the KV shard 64 keys at a time, up to the first tile whose
//   first key follows its last query; a warp skips a tile none of whose keys its rows see, and masks per
//   element only tiles cut by skv or by the diagonal.
//   A warp's 16 rows are 1 MMA row tile(s) of 16. A KV tile is taken 64 keys at a time (an online-softmax
//   step). S = Q K^T of a step is 1 x 8 tiles of 16 x 8 (keys), built over d in
//   steps of 16: Q fragments by ldmatrix (d contiguous: K-major A), K fragments by ldmatrix without .trans (K rows
//   are keys with d contiguous: K^T is the column-major B). O is 1 x 16 tiles of 16 x 8 (head dims). A lane holds 4
//   fp32 accumulators per tile: rows g and g + 8, columns 2t and 2t + 1 (g = lane / 4, t = lane % 4), so a row's
//   max and sum are reduced over the 4 lanes of a quad (shuffles by 1 and 2).
//   O += P V: the accumulators of S n-tiles 2kk and 2kk + 1, rounded to 16 bits, are exactly the A fragment of
//   P's k-tile kk (FlashAttention-2's register repacking, no trip through shared memory); V rows are keys with d
//   contiguous, so its B fragments come from ldmatrix.trans.
//   Per lane: 64 O + 32 S accumulators; Q fragments are reloaded from shared memory per step.
//   Online softmax (FlashAttention-2) in fp32 and base 2: S is scaled by scale * log2(e), p = exp2(S - m) with m
//   the running row max; when m grows, O and the row sum are rescaled by exp2(m_old - m_new). A row that has seen
//   no key keeps m = -inf and uses 0 in its place, so every exp2 is of -inf (0) and never NaN.
//   After the last tile the step's partial is o = O / l and lse = m * ln 2 + ln l (-inf and 0 when l = 0), merged
//   into the running state: L = max + log1p(exp(min - max)), O = e^(La - L) Oa + e^(Lb - L) Ob; a step partial
//   with Lb = -inf leaves the row untouched and a running row with La = -inf takes the step's partial as is.
//
// Shared memory (dynamic)
//   Qs[128][16], then 2 stages of Ks[64][16] and Vs[64][16]: rows of 16-byte chunks of 8 elements,
//   the global layout, so one chunk is one cp.async (rows past sq or skv are zero-filled). The chunk index is
//   XOR-swizzled with the row's place in a 128-byte window: 8 rows read at one chunk index hit 8 bank groups.
//   Q is loaded once; K and V are double-buffered: tile t + 1's copies are issued before tile t's math.
//   98304 bytes in all.

constexpr int D = 128;  // head dimension
constexpr int BQ = 128, BKV = 64;  // query rows per block, keys per KV tile
constexpr int WARPS = 8, THREADS = 32 * WARPS;
constexpr int RW = BQ / WARPS;  // query rows per warp
constexpr int KV_STAGES = 2;  // K/V double buffering
constexpr int CHUNK_ELEMS = 8, CHUNKS = D / CHUNK_ELEMS;  // 16-byte chunks per row of Qs, Ks, Vs
constexpr int SWIZZLE = 8, ROW_GROUP = 1;  // chunk c of row r is stored at c ^ ((r / ROW_GROUP) % SWIZZLE)
constexpr int Q_TILE = BQ * D, KV_TILE = BKV * D;  // elements
constexpr int TILE_BYTES = 98304;  // Qs + KV_STAGES x (Ks + Vs)
constexpr bool CAUSAL = true;
constexpr float SCALE_LOG2 = 0.12751743f;  // softmax scale 0.088388346f times log2(e)
constexpr float LN2 = 0.693147180559945309f;
constexpr int FINALIZE_THREADS = 256;
constexpr unsigned FULL_MASK = 0xffffffffu;
static_assert(RW * WARPS == BQ && BKV % 16 == 0 && D % 16 == 0, "warps split the rows; whole 16-key and 16-dim steps");
constexpr int MI = RW / 16;  // 16-row MMA tiles per warp
constexpr int KS = 64;  // keys per online-softmax step inside a KV tile
constexpr int NS = KS / 8, NO = D / 8;  // 8-wide MMA n-tiles of S (keys of a step) and of O (head dims)
constexpr int VO = 2;  // V ldmatrix.x4.trans (two O n-tiles each) issued together
static_assert(RW % 16 == 0 && CHUNK_ELEMS == 8 && KS % 16 == 0 && BKV % KS == 0 && NO % (2 * VO) == 0, "whole MMA row tiles, key steps and V groups; 16-bit elements");

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

// ldmatrix: each lane gets its share of four 8x8 matrices of 16-bit elements; lane l supplies the address
// of row l % 8 of matrix l / 8 (.trans: each matrix transposed on the way).
__device__ __forceinline__ void ldmatrix_x4(unsigned (&r)[4], const void* p)
{
    asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0, %1, %2, %3}, [%4];\n"
                 : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3]) : "r"(shared_address(p)));
}

__device__ __forceinline__ void ldmatrix_x4_trans(unsigned (&r)[4], const void* p)
{
    asm volatile("ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 {%0, %1, %2, %3}, [%4];\n"
                 : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3]) : "r"(shared_address(p)));
}

// d (16x8, fp32) += a (16x16, row-major) * b (16x8, column-major), bf16 operands.
__device__ __forceinline__ void mma_16x8x16_bf16(float (&d)[4], const unsigned (&a)[4], const unsigned (&b)[2])
{
    asm volatile("mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0, %1, %2, %3}, {%4, %5, %6, %7}, {%8, %9}, {%0, %1, %2, %3};\n"
                 : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
                 : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]));
}

// Two fp32 values as one register of two 16-bit elements, rounded to nearest even; `lo` in the low half.
__device__ __forceinline__ unsigned pack_bf16x2(float lo, float hi)
{
    unsigned r;
    asm("cvt.rn.bf16x2.f32 %0, %1, %2;" : "=r"(r) : "f"(hi), "f"(lo));
    return r;
}

__device__ __forceinline__ unsigned short float_to_bf16(float x) { unsigned short h; asm("cvt.rn.bf16.f32 %0, %1;" : "=h"(h) : "f"(x)); return h; }

// 2^x on the SFU (about 2 ulp; subnormal results flush to 0); ex2(-inf) = 0.
__device__ __forceinline__ float ex2_approx(float x) { float y; asm("ex2.approx.ftz.f32 %0, %1;" : "=f"(y) : "f"(x)); return y; }
#endif  // KERNELDSL_EMULATION (end of the PTX prelude)

typedef unsigned short in_t;  // Q, K and V elements
typedef unsigned short out_t;  // bf16 bits: the high half of an fp32
__device__ __forceinline__ float to_float(out_t h) { return __uint_as_float(static_cast<unsigned>(h) << 16); }
__device__ __forceinline__ out_t from_float(float x) { return float_to_bf16(x); }

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

// Row and column, within its 16 x 8 MMA tile, of accumulator element e (0..3) of this lane.
__device__ __forceinline__ int acc_row(int e) { const int lane = threadIdx.x % 32; return lane / 4 + (e / 2) * 8; }
__device__ __forceinline__ int acc_col(int e) { const int lane = threadIdx.x % 32; return (lane % 4) * 2 + e % 2; }

// Lane's ldmatrix.x4 address for the 16 x 16 block of Qs at (row0, k0): lane l names row l % 8 of matrix l / 8;
// matrices (rows, k) = (0-7, 0-7), (8-15, 0-7), (0-7, 8-15), (8-15, 8-15) give a0..a3.
__device__ __forceinline__ int q_fragment(int row0, int k0)
{
    const int lane = threadIdx.x % 32, q = lane / 8, r = lane % 8;
    return tile_offset(row0 + (q % 2) * 8 + r, (k0 + (q / 2) * 8) / 8);
}

// Lane's ldmatrix.x4 address for keys key0..key0+15, dims k0..k0+15 of Ks (K^T as B, no transpose):
// matrices (keys, k) = (0-7, 0-7), (0-7, 8-15), (8-15, 0-7), (8-15, 8-15) give b0, b1 of n-tile key0 / 8, then of the next.
__device__ __forceinline__ int k_fragment(int key0, int k0)
{
    const int lane = threadIdx.x % 32, q = lane / 8, r = lane % 8;
    return tile_offset(key0 + (q / 2) * 8 + r, (k0 + (q % 2) * 8) / 8);
}

// Lane's ldmatrix.x4.trans address for keys key0..key0+15, dims dim0..dim0+15 of Vs (V as B, keys are its k):
// matrices (keys, dims) = (0-7, 0-7), (8-15, 0-7), (0-7, 8-15), (8-15, 8-15) give b0, b1 of n-tile dim0 / 8, then of the next.
__device__ __forceinline__ int v_fragment(int key0, int dim0)
{
    const int lane = threadIdx.x % 32, q = lane / 8, r = lane % 8;
    return tile_offset(key0 + (q % 2) * 8 + r, (dim0 + (q / 2) * 8) / 8);
}

extern "C" __global__ void __launch_bounds__(THREADS, 1) kd_attn_step_RingAttentionSample_LongContextNoOverlap(
    const in_t* __restrict__ Q, const in_t* __restrict__ K, const in_t* __restrict__ V,
    float* __restrict__ O_run, float* __restrict__ L_run,
    int heads, int kv_heads, int sq, int skv,
    int q_start0, int q_len0, int q_stride0, int q_start1, int q_stride1,
    int kv_start0, int kv_len0, int kv_stride0, int kv_start1, int kv_stride1)
{
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

    // Accumulators of O (tile i, n-tile n, element e: row acc_row(e), dim 8n + acc_col(e)) and, per row h
    // (acc_row(2h)) of tile i: running max m (base 2, scaled), this lane's share of the sum l, global position.
    float o[MI][NO][4] = {};
    float row_max[MI][2], row_sum[MI][2];
    int row_pos[MI][2];
    #pragma unroll
    for (int i = 0; i < MI; ++i) {
        #pragma unroll
        for (int h = 0; h < 2; ++h) {
            row_max[i][h] = minus_infinity();
            row_sum[i][h] = 0.0f;
            row_pos[i][h] = q_position(q0 + warp_row0 + 16 * i + acc_row(2 * h));
        }
    }

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
            for (int ks = 0; ks < BKV; ks += KS) {
                // S = Q K^T for keys ks .. ks + KS - 1: MI x NS tiles of 16 x 8, over d in steps of 16 (unrolled by 2
                // only: fully unrolled, ptxas keeps every step's fragment addresses live and runs out of registers).
                // A d-step's Q and K fragments are all loaded before its MMAs, each ldmatrix into registers of its
                // own, so their latencies overlap instead of each MMA waiting on the load just before it.
                float s[MI][NS][4] = {};
                #pragma unroll 2
                for (int kk = 0; kk < D; kk += 16) {
                    unsigned a[MI][4], b[NS / 2][4];  // b[j / 2]: n-tiles j and j + 1
                    #pragma unroll
                    for (int i = 0; i < MI; ++i) ldmatrix_x4(a[i], Qs + q_fragment(warp_row0 + 16 * i, kk));
                    #pragma unroll
                    for (int j = 0; j < NS; j += 2) ldmatrix_x4(b[j / 2], Ks + k_fragment(ks + 8 * j, kk));
                    #pragma unroll
                    for (int j = 0; j < NS; j += 2) {
                        const unsigned b_lo[2] = {b[j / 2][0], b[j / 2][1]}, b_hi[2] = {b[j / 2][2], b[j / 2][3]};
                        #pragma unroll
                        for (int i = 0; i < MI; ++i) {
                            mma_16x8x16_bf16(s[i][j], a[i], b_lo);
                            mma_16x8x16_bf16(s[i][j + 1], a[i], b_hi);
                        }
                    }
                }

                // Scale into base 2; mask keys past skv and, causally, keys after the row's position.
                #pragma unroll
                for (int i = 0; i < MI; ++i) {
                    #pragma unroll
                    for (int j = 0; j < NS; ++j) {
                        #pragma unroll
                        for (int e = 0; e < 4; ++e) s[i][j][e] *= SCALE_LOG2;
                    }
                }
                if (masked) {
                    #pragma unroll
                    for (int j = 0; j < NS; ++j) {
                        #pragma unroll
                        for (int c = 0; c < 2; ++c) {
                            const int key = kv0 + ks + 8 * j + acc_col(c);
                            const int key_pos = key < skv ? kv_position(key) : 0;
                            #pragma unroll
                            for (int i = 0; i < MI; ++i) {
                                #pragma unroll
                                for (int h = 0; h < 2; ++h) {
                                    const bool seen = key < skv && (!CAUSAL || key_pos <= row_pos[i][h]);
                                    if (!seen) s[i][j][2 * h + c] = minus_infinity();
                                }
                            }
                        }
                    }
                }

                // Online softmax per row: new max over the quad, rescale O and the sum, P = exp2(S - max) in place.
                #pragma unroll
                for (int i = 0; i < MI; ++i) {
                    #pragma unroll
                    for (int h = 0; h < 2; ++h) {
                        float step_max = minus_infinity();
                        #pragma unroll
                        for (int j = 0; j < NS; ++j) step_max = fmaxf(step_max, fmaxf(s[i][j][2 * h], s[i][j][2 * h + 1]));
                        step_max = fmaxf(step_max, __shfl_xor_sync(FULL_MASK, step_max, 1));
                        step_max = fmaxf(step_max, __shfl_xor_sync(FULL_MASK, step_max, 2));
                        const float new_max = fmaxf(row_max[i][h], step_max);
                        const float base = new_max == minus_infinity() ? 0.0f : new_max;  // no key seen yet: exp2(-inf) = 0, not NaN
                        const float rescale = ex2_approx(row_max[i][h] - base);
                        row_max[i][h] = new_max;
                        row_sum[i][h] *= rescale;
                        #pragma unroll
                        for (int n = 0; n < NO; ++n) {
                            o[i][n][2 * h] *= rescale;
                            o[i][n][2 * h + 1] *= rescale;
                        }
                        #pragma unroll
                        for (int j = 0; j < NS; ++j) {
                            #pragma unroll
                            for (int c = 0; c < 2; ++c) {
                                const float p = ex2_approx(s[i][j][2 * h + c] - base);
                                s[i][j][2 * h + c] = p;
                                row_sum[i][h] += p;
                            }
                        }
                    }
                }

                // O += P V over the step's keys, 16 at a time: P's A fragment is S n-tiles 2kk and 2kk + 1, packed.
                #pragma unroll
                for (int kk = 0; kk < KS / 16; ++kk) {
                    unsigned a[MI][4];
                    #pragma unroll
                    for (int i = 0; i < MI; ++i) {
                        a[i][0] = pack_bf16x2(s[i][2 * kk + 0][0], s[i][2 * kk + 0][1]);
                        a[i][1] = pack_bf16x2(s[i][2 * kk + 0][2], s[i][2 * kk + 0][3]);
                        a[i][2] = pack_bf16x2(s[i][2 * kk + 1][0], s[i][2 * kk + 1][1]);
                        a[i][3] = pack_bf16x2(s[i][2 * kk + 1][2], s[i][2 * kk + 1][3]);
                    }
                    // V fragments VO at a time, each group loaded before its MMAs (registers of their own, as for K).
                    #pragma unroll
                    for (int n0 = 0; n0 < NO; n0 += 2 * VO) {
                        unsigned b[VO][4];  // b[g]: n-tiles n0 + 2g and n0 + 2g + 1
                        #pragma unroll
                        for (int g = 0; g < VO; ++g) ldmatrix_x4_trans(b[g], Vs + v_fragment(ks + 16 * kk, 8 * (n0 + 2 * g)));
                        #pragma unroll
                        for (int g = 0; g < VO; ++g) {
                            const unsigned b_lo[2] = {b[g][0], b[g][1]}, b_hi[2] = {b[g][2], b[g][3]};
                            #pragma unroll
                            for (int i = 0; i < MI; ++i) {
                                mma_16x8x16_bf16(o[i][n0 + 2 * g], a[i], b_lo);
                                mma_16x8x16_bf16(o[i][n0 + 2 * g + 1], a[i], b_hi);
                            }
                        }
                    }
                }
            }
        }
        __syncthreads();  // everyone is done with this stage before a later iteration refills it
    }
    if (warp_rows <= 0) return;
    // The step's partial per row: sum over the quad, o = O / l, lse = m ln 2 + ln l. Every lane of a quad reads the
    // row's running L before any of them writes it.
    float run_lse[MI][2];
    #pragma unroll
    for (int i = 0; i < MI; ++i) {
        #pragma unroll
        for (int h = 0; h < 2; ++h) {
            row_sum[i][h] += __shfl_xor_sync(FULL_MASK, row_sum[i][h], 1);
            row_sum[i][h] += __shfl_xor_sync(FULL_MASK, row_sum[i][h], 2);
            const int row = q0 + warp_row0 + 16 * i + acc_row(2 * h);
            run_lse[i][h] = row < sq ? L_run[(long long)head * sq + row] : minus_infinity();
        }
    }
    __syncwarp();
    #pragma unroll
    for (int i = 0; i < MI; ++i) {
        #pragma unroll
        for (int h = 0; h < 2; ++h) {
            const int row = q0 + warp_row0 + 16 * i + acc_row(2 * h);
            if (row >= sq || row_sum[i][h] == 0.0f) continue;  // outside sq, or no key seen: (-inf, 0) changes nothing
            float keep, take;
            const float lse = merge_lse(run_lse[i][h], row_max[i][h] * LN2 + logf(row_sum[i][h]), keep, take);
            const float scale = take / row_sum[i][h];  // the step's o = O / l, weighted
            const bool fresh = run_lse[i][h] == minus_infinity();
            float* const o_row = O_run + ((long long)head * sq + row) * D + acc_col(2 * h);
            #pragma unroll
            for (int n = 0; n < NO; ++n) {
                float2* const at = reinterpret_cast<float2*>(o_row + 8 * n);
                float2 running = {0.0f, 0.0f};
                if (!fresh) running = *at;
                float2 merged;
                merged.x = fmaf(keep, running.x, scale * o[i][n][2 * h]);
                merged.y = fmaf(keep, running.y, scale * o[i][n][2 * h + 1]);
                *at = merged;
            }
            if (lane % 4 == 0) L_run[(long long)head * sq + row] = lse;
        }
    }
}

// After the last ring step: O = O_run in the element type, L = L_run. rows = heads * sq; 4 elements per thread.
extern "C" __global__ void __launch_bounds__(FINALIZE_THREADS) kd_attn_finalize_RingAttentionSample_LongContextNoOverlap(
    const float* __restrict__ O_run, const float* __restrict__ L_run, out_t* __restrict__ O, float* __restrict__ L, int rows)
{
    const long long quads = (long long)rows * (D / 4);
    for (long long i = blockIdx.x * (long long)FINALIZE_THREADS + threadIdx.x; i < quads; i += (long long)gridDim.x * FINALIZE_THREADS) {
        const float4 v = reinterpret_cast<const float4*>(O_run)[i];
        uint2 packed;
        packed.x = static_cast<unsigned>(from_float(v.x)) | (static_cast<unsigned>(from_float(v.y)) << 16);
        packed.y = static_cast<unsigned>(from_float(v.z)) | (static_cast<unsigned>(from_float(v.w)) << 16);
        reinterpret_cast<uint2*>(O)[i] = packed;
        if (i < rows) L[i] = L_run[i];
    }
}