// KernelDsl: RingAttentionSample.LongContextNoOverlap, BF16 ring attention backward (d = 128, causal) on tensor cores (mma.sync m16n8k16, fp32 accumulate). Generated; do not edit.
//   Backward step kernel, once per ring step: FlashAttention-2's backward of this rank's queries against one K/V shard.
//   With the forward's L (natural log; -inf for a row that saw no key) and D = rowsum(dO o O) of each query row:
//   P = exp(S * scale - L), dV += P^T dO, dP = dO V^T, dS = P o (dP - D), dQ += scale dS K, dK += scale dS^T Q,
//   all added into fp32 accumulators (dQ [heads][sq][d] of this rank, dK and dV [kv_heads][skv][d] of the shard),
//   so a ring adds every step into the same buffers and converts once at the end (gradient kernel). Positions, the
//   causal rule and the tensor layouts are the forward step's; query head h reads K/V head h / (heads / kv_heads).
//
// Tiling
//   A block of 128 threads owns 64 keys of one K/V head (grid: ceil(skv / 64) x kv_heads), 16 per warp,
//   whose dK and dV it holds in fp32 registers while the block walks the query tiles of every query head that reads
//   its K/V head, 32 rows at a time (causally from the first tile whose last query is at or after the block's first key;
//   a warp skips a tile none of whose queries sees its keys, and masks per element where the diagonal cuts or skv ends).
//   Per query tile a warp computes S^T = K Q^T and dP^T = V dO^T for its 16 keys (16 x BQ: K and V as A from ldmatrix,
//   Q and dO as B from ldmatrix without .trans), P^T = exp2(S^T scale log2(e) - L log2(e)) and dS^T = P^T o (dP^T - D)
//   in the accumulators, then dV += P^T dO and dK += dS^T Q with P^T and dS^T repacked in registers as A fragments
//   (the forward's P repacking) and dO, Q as B from ldmatrix.trans. dQ needs dS with queries as rows: each warp stores
//   its dS^T rows in 16 bits to shared memory, and after a barrier the warps split the tile's dQ into 16 x 16 blocks,
//   each a sum over the block's BKV keys (dS as A by ldmatrix.trans, K as B by ldmatrix.trans), added to global dQ
//   with one fp32 atomic add per element.
//   Blocks over different keys add into the same dQ rows, so dQ's rounding depends on their order (dK and dV have
//   one writer per row and are deterministic).
//   Rows past sq read zero Q and dO and L = +inf, so their P is 0; keys past skv read zero K and V and are masked
//   (P = 0), and their dK, dV rows are not written. A row with L = -inf (no key seen forward) takes L = +inf:
//   P = 0 and zero gradients, never NaN.
//
// Shared memory (dynamic)
//   Ks[64][16] and Vs[64][16] chunks, loaded once; 2 stages of Qs[32][16] and dOs[32][16] (cp.async, the
//   next tile's copies issued before this tile's math; swizzled as in the forward step); per stage the tile's L and D
//   in fp32 (L pre-multiplied by log2(e)); dSt[64][40] 16-bit (rows padded by 8 elements). 71168 bytes in all.

constexpr int D = 128;  // head dimension
constexpr int BQ = 32, BKV = 64;  // query rows per tile, keys per block
constexpr int WARPS = 4, THREADS = 32 * WARPS, KPW = 16;  // KPW: keys per warp
constexpr int Q_STAGES = 2;  // Q/dO double buffering
constexpr int CHUNK_ELEMS = 8, CHUNKS = D / CHUNK_ELEMS;  // 16-byte chunks per row of Ks, Vs, Qs, dOs
constexpr int SWIZZLE = 8, ROW_GROUP = 1;  // chunk c of row r is stored at c ^ ((r / ROW_GROUP) % SWIZZLE)
constexpr int Q_TILE = BQ * D, KV_TILE = BKV * D;  // elements
constexpr int DS_STRIDE = 40;  // elements per dSt row: BQ + 8 of padding
constexpr bool CAUSAL = true;
constexpr float SCALE = 0.088388346f;  // softmax scale
constexpr float SCALE_LOG2 = 0.12751743f;  // softmax scale times log2(e)
constexpr float LOG2E = 1.44269504088896341f;
constexpr int DELTA_WARPS = 8, GRADIENT_THREADS = 256;
constexpr unsigned FULL_MASK = 0xffffffffu;
static_assert(BKV == KPW * WARPS, "the warps split the block's keys");
constexpr int NQ = BQ / 8, NO = D / 8;  // 8-wide MMA n-tiles of S^T (queries) and of dK, dV (head dims)
constexpr int DQ_BLOCKS = (BQ / 16) * (D / 16);  // 16 x 16 blocks of a tile's dQ, split over the warps
static_assert(KPW == 16 && CHUNK_ELEMS == 8 && BQ % 16 == 0 && D % 16 == 0, "one MMA row tile of keys per warp; 16-bit elements; whole 16-query and 16-dim steps");

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

typedef unsigned short in_t;  // Q, K, V, O and dO elements
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

// Lane's ldmatrix.x4.trans address for dS as the A operand (queries m0..m0+15 x keys k0..k0+15) from dSt, which
// holds dS^T: rows are keys, queries contiguous, DS_STRIDE elements apart.
__device__ __forceinline__ int ds_fragment(int m0, int k0)
{
    const int lane = threadIdx.x % 32, q = lane / 8, r = lane % 8;
    return (k0 + (q / 2) * 8 + r) * DS_STRIDE + m0 + (q % 2) * 8;
}
extern "C" __global__ void __launch_bounds__(THREADS, 1) kd_attn_bwd_step_RingAttentionSample_LongContextNoOverlap(
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
    // dK and dV of the warp's keys (n-tile n, element e: key acc_row(e), dim 8n + acc_col(e)); dK without the scale.
    // key_pos[h]: the global position of the lane's key acc_row(2h), -1 past skv (its P must be 0, not exp2(-L),
    // which overflows for a row with L below about -88).
    float dk[NO][4] = {}, dv[NO][4] = {};
    int key_pos[2];
    #pragma unroll
    for (int h = 0; h < 2; ++h) {
        const int key = warp_key0 + acc_row(2 * h);
        key_pos[h] = key < kv_rows ? kv_position(kv0 + key) : -1;
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
            // S^T = K Q^T and dP^T = V dO^T for the warp's 16 keys: NQ tiles of 16 x 8 (queries), over d in steps of 16.
            float st[NQ][4] = {}, dpt[NQ][4] = {};
            #pragma unroll 2
            for (int kk = 0; kk < D; kk += 16) {
                unsigned a[4], b[NQ / 2][4];  // b[j / 2]: query n-tiles j and j + 1
                ldmatrix_x4(a, Ks + q_fragment(warp_key0, kk));
                #pragma unroll
                for (int j = 0; j < NQ; j += 2) ldmatrix_x4(b[j / 2], Qs + k_fragment(8 * j, kk));
                #pragma unroll
                for (int j = 0; j < NQ; j += 2) {
                    const unsigned b_lo[2] = {b[j / 2][0], b[j / 2][1]}, b_hi[2] = {b[j / 2][2], b[j / 2][3]};
                    mma_16x8x16_bf16(st[j], a, b_lo);
                    mma_16x8x16_bf16(st[j + 1], a, b_hi);
                }
                ldmatrix_x4(a, Vs + q_fragment(warp_key0, kk));
                #pragma unroll
                for (int j = 0; j < NQ; j += 2) ldmatrix_x4(b[j / 2], dOs + k_fragment(8 * j, kk));
                #pragma unroll
                for (int j = 0; j < NQ; j += 2) {
                    const unsigned b_lo[2] = {b[j / 2][0], b[j / 2][1]}, b_hi[2] = {b[j / 2][2], b[j / 2][3]};
                    mma_16x8x16_bf16(dpt[j], a, b_lo);
                    mma_16x8x16_bf16(dpt[j + 1], a, b_hi);
                }
            }

            // P^T = exp2(S^T scale log2(e) - L log2(e)), 0 for a key past skv or (causally) after the query;
            // dS^T = P^T o (dP^T - D).
            #pragma unroll
            for (int j = 0; j < NQ; ++j) {
                #pragma unroll
                for (int c = 0; c < 2; ++c) {
                    const int query = 8 * j + acc_col(c);  // elements c and 2 + c: keys acc_row(0) and acc_row(2)
                    const float l = Ls[query], delta = Ds[query];
                    const int query_pos = CAUSAL && masked ? q_position(q0 + query) : 0;
                    #pragma unroll
                    for (int h = 0; h < 2; ++h) {
                        const int e = 2 * h + c;
                        float p = ex2_approx(st[j][e] * SCALE_LOG2 - l);
                        if (masked && (key_pos[h] < 0 || (CAUSAL && key_pos[h] > query_pos))) p = 0.0f;
                        st[j][e] = p;
                        dpt[j][e] = p * (dpt[j][e] - delta);
                    }
                }
            }

            // dV += P^T dO and dK += dS^T Q over the tile's queries, 16 at a time: the A fragments of query k-tile
            // kq are S^T (dS^T) n-tiles 2kq and 2kq + 1, packed; dO and Q as B by ldmatrix.trans, two n-tiles each.
            #pragma unroll
            for (int kq = 0; kq < BQ / 16; ++kq) {
                unsigned pa[4], sa[4];
                pa[0] = pack_bf16x2(st[2 * kq + 0][0], st[2 * kq + 0][1]);
                pa[1] = pack_bf16x2(st[2 * kq + 0][2], st[2 * kq + 0][3]);
                pa[2] = pack_bf16x2(st[2 * kq + 1][0], st[2 * kq + 1][1]);
                pa[3] = pack_bf16x2(st[2 * kq + 1][2], st[2 * kq + 1][3]);
                sa[0] = pack_bf16x2(dpt[2 * kq + 0][0], dpt[2 * kq + 0][1]);
                sa[1] = pack_bf16x2(dpt[2 * kq + 0][2], dpt[2 * kq + 0][3]);
                sa[2] = pack_bf16x2(dpt[2 * kq + 1][0], dpt[2 * kq + 1][1]);
                sa[3] = pack_bf16x2(dpt[2 * kq + 1][2], dpt[2 * kq + 1][3]);
                #pragma unroll
                for (int n = 0; n < NO; n += 2) {
                    unsigned bo[4], bq[4];
                    ldmatrix_x4_trans(bo, dOs + v_fragment(16 * kq, 8 * n));
                    ldmatrix_x4_trans(bq, Qs + v_fragment(16 * kq, 8 * n));
                    const unsigned bo_lo[2] = {bo[0], bo[1]}, bo_hi[2] = {bo[2], bo[3]};
                    const unsigned bq_lo[2] = {bq[0], bq[1]}, bq_hi[2] = {bq[2], bq[3]};
                    mma_16x8x16_bf16(dv[n], pa, bo_lo);
                    mma_16x8x16_bf16(dv[n + 1], pa, bo_hi);
                    mma_16x8x16_bf16(dk[n], sa, bq_lo);
                    mma_16x8x16_bf16(dk[n + 1], sa, bq_hi);
                }
            }

            // dS^T rows of the warp's keys to dSt in 16 bits, for dQ.
            #pragma unroll
            for (int j = 0; j < NQ; ++j) {
                #pragma unroll
                for (int h = 0; h < 2; ++h) {
                    *reinterpret_cast<unsigned*>(dSt + (warp_key0 + acc_row(2 * h)) * DS_STRIDE + 8 * j + acc_col(2 * h)) =
                        pack_bf16x2(dpt[j][2 * h], dpt[j][2 * h + 1]);
                }
            }
        } else {
            // No key of the warp is seen by the tile (or it has none): its dS^T rows are 0.
            #pragma unroll
            for (int j = 0; j < NQ; ++j) {
                #pragma unroll
                for (int h = 0; h < 2; ++h) {
                    *reinterpret_cast<unsigned*>(dSt + (warp_key0 + acc_row(2 * h)) * DS_STRIDE + 8 * j + acc_col(2 * h)) = 0u;
                }
            }
        }
        __syncthreads();  // every warp's dS^T rows are in dSt

        // dQ += scale dS K for the tile: 16 x 16 blocks (queries, dims), each a sum over the block's BKV keys.
        for (int block = warp; block < DQ_BLOCKS; block += WARPS) {
            const int m0 = 16 * (block % (BQ / 16)), d0 = 16 * (block / (BQ / 16));
            float acc[2][4] = {};
            #pragma unroll
            for (int k0 = 0; k0 < BKV; k0 += 16) {
                unsigned a[4], bk[4];
                ldmatrix_x4_trans(a, dSt + ds_fragment(m0, k0));
                ldmatrix_x4_trans(bk, Ks + v_fragment(k0, d0));
                const unsigned bk_lo[2] = {bk[0], bk[1]}, bk_hi[2] = {bk[2], bk[3]};
                mma_16x8x16_bf16(acc[0], a, bk_lo);
                mma_16x8x16_bf16(acc[1], a, bk_hi);
            }
            #pragma unroll
            for (int e = 0; e < 4; ++e) {
                const int row = m0 + acc_row(e);
                if (row >= q_rows) continue;
                float* const at = dQ + ((long long)head * sq + q0 + row) * D + d0 + acc_col(e);
                atomicAdd(at, SCALE * acc[0][e]);
                atomicAdd(at + 8, SCALE * acc[1][e]);
            }
        }
        __syncthreads();  // everyone is done with this stage and dSt before they are refilled
    }

    // Add the warp's dK (scaled) and dV into the shard's accumulators: this block is their rows' only writer.
    #pragma unroll
    for (int h = 0; h < 2; ++h) {
        const int key = warp_key0 + acc_row(2 * h);
        if (key >= kv_rows) continue;
        const long long row = ((long long)kv_head * skv + kv0 + key) * D + acc_col(2 * h);
        #pragma unroll
        for (int n = 0; n < NO; ++n) {
            float2* const k_at = reinterpret_cast<float2*>(dK + row + 8 * n);
            float2* const v_at = reinterpret_cast<float2*>(dV + row + 8 * n);
            float2 k_sum = *k_at, v_sum = *v_at;
            k_sum.x = fmaf(SCALE, dk[n][2 * h], k_sum.x);
            k_sum.y = fmaf(SCALE, dk[n][2 * h + 1], k_sum.y);
            v_sum.x += dv[n][2 * h];
            v_sum.y += dv[n][2 * h + 1];
            *k_at = k_sum;
            *v_at = v_sum;
        }
    }
}

// D = rowsum(dO o O) of every query row, once per rank before its backward steps: one warp per row. rows = heads * sq.
extern "C" __global__ void __launch_bounds__(32 * DELTA_WARPS) kd_attn_bwd_delta_RingAttentionSample_LongContextNoOverlap(
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
extern "C" __global__ void __launch_bounds__(GRADIENT_THREADS) kd_attn_bwd_gradient_RingAttentionSample_LongContextNoOverlap(
    const float* __restrict__ accumulator, out_t* __restrict__ gradient, int count)
{
    for (long long i = blockIdx.x * (long long)GRADIENT_THREADS + threadIdx.x; i < count; i += (long long)gridDim.x * GRADIENT_THREADS) {
        gradient[i] = from_float(accumulator[i]);
    }
}