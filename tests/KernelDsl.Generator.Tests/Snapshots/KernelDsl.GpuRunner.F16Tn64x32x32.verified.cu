// KernelDsl: KernelDsl.GpuRunner.F16Tn64x32x32, F16 GEMM on tensor cores (mma.sync m16n8k16, fp32 accumulate), F32 output. Generated; do not edit.
//   C = alpha * op(A) * op(B) + beta * C
//   op(A) = A, stored M x K; op(B) = B^T, B stored N x K; C is M x N; all row-major.
//
// Tiling
//   A block of 64 threads computes a 64 x 32 tile of C; its 2 x 1 warps each own a
//   32 x 32 warp tile.
//   A warp tile is 2 x 4 MMA tiles of 16 x 8; per 16-deep k step the warp loads 2 A
//   fragments (16 x 16) and 4 B fragments (16 x 8, two per ldmatrix.x4) and issues 8 MMAs.
//   A lane holds 4 fp32 accumulators per MMA tile (32 in all): rows g and g + 8, columns 2t and
//   2t + 1 of the tile, with g = lane / 4 and t = lane % 4.
//   K is walked 32 at a time. Each step's A and B slices are copied into one of 5 shared-memory
//   stages with cp.async, up to 4 step(s) ahead of the step being multiplied.
//   Copies of elements outside M, N or K write zeros, which add nothing to the dot products, so ragged
//   shapes need no special case in the inner loop; only the epilogue checks bounds before storing.
//
// Shared memory keeps each operand's global layout, cut into 16-byte chunks of 8 elements, so a global
// chunk is one 16-byte cp.async. ldmatrix reads one chunk from each of 8 consecutive rows; a row of C chunks
// starts in bank group (r * C) % 8, which repeats every ROW_GROUP rows, so chunk c of row r is stored at
// c ^ ((r / ROW_GROUP) % SWIZZLE): the 8 chunks land in 8 different bank groups (conflict-free), each whole.
//   As: 64 rows (M) x 4 chunks along K; fragments by ldmatrix.
//   Bs: 32 rows (N) x 4 chunks along K; fragments by ldmatrix.
//   6144 bytes per stage, 30720 bytes in all (dynamic shared memory).

constexpr int BM = 64, BN = 32, BK = 32;  // block tile
constexpr int WARPS_M = 2, WARPS_N = 1;  // warp grid
constexpr int THREADS = 32 * WARPS_M * WARPS_N;
constexpr int WTM = 32, WTN = 32;  // warp tile
constexpr int MI = WTM / 16, NI = WTN / 8;  // MMA tiles (16 x 8) per warp tile
constexpr int STAGES = 5;
constexpr int A_ROWS = 64, A_CHUNKS = 4;  // As: rows x 16-byte chunks per stage
constexpr int A_SWIZZLE = 4, A_ROW_GROUP = 2;
constexpr int A_COPY_ROWS = 16, A_PASSES = 4;  // As copied in passes of COPY_ROWS rows, one chunk a thread
static_assert(A_COPY_ROWS * A_CHUNKS == THREADS && A_COPY_ROWS % 8 == 0 && A_PASSES * A_COPY_ROWS == A_ROWS, "fixed copy passes");
constexpr int B_ROWS = 32, B_CHUNKS = 4;  // Bs: rows x 16-byte chunks per stage
constexpr int B_SWIZZLE = 4, B_ROW_GROUP = 2;
constexpr int B_COPY_ROWS = 16, B_PASSES = 2;  // Bs copied in passes of COPY_ROWS rows, one chunk a thread
static_assert(B_COPY_ROWS * B_CHUNKS == THREADS && B_COPY_ROWS % 8 == 0 && B_PASSES * B_COPY_ROWS == B_ROWS, "fixed copy passes");
constexpr int A_STAGE = A_ROWS * A_CHUNKS * 8, B_STAGE = B_ROWS * B_CHUNKS * 8;  // elements per stage
static_assert(WARPS_M * WTM == BM && WARPS_N * WTN == BN, "warps tile the block");
static_assert(WTM % 16 == 0 && WTN % 16 == 0 && BK % 16 == 0, "whole MMA tiles; B fragments come in pairs");

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

// d (16x8, fp32) += a (16x16, row-major) * b (16x8, column-major), f16 operands.
__device__ __forceinline__ void mma_16x8x16_f16(float (&d)[4], const unsigned (&a)[4], const unsigned (&b)[2])
{
    asm volatile("mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 {%0, %1, %2, %3}, {%4, %5, %6, %7}, {%8, %9}, {%0, %1, %2, %3};\n"
                 : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
                 : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]));
}

// Two fp32 values as one register of two 16-bit elements, rounded to nearest even; `lo` in the low half.
__device__ __forceinline__ unsigned pack_f16x2(float lo, float hi)
{
    unsigned r;
    asm("cvt.rn.f16x2.f32 %0, %1, %2;" : "=r"(r) : "f"(hi), "f"(lo));
    return r;
}
#endif  // KERNELDSL_EMULATION (end of the PTX prelude)

// Element offset of chunk `chunk` of row `row` in a stage of As, swizzled.
__device__ __forceinline__ int a_offset(int row, int chunk)
{
    return (row * A_CHUNKS + (chunk ^ ((row / A_ROW_GROUP) % A_SWIZZLE))) * 8;
}

// Lane's ldmatrix address for the 16 x 16 block of A at (m = mn, k): lane l names row l % 8 of matrix l / 8;
// matrices (mn, k) = (0-7, 0-7), (8-15, 0-7), (0-7, 8-15), (8-15, 8-15) give a0..a3.
__device__ __forceinline__ int a_fragment(int mn, int k)
{
    const int lane = threadIdx.x % 32, q = lane / 8, r = lane % 8;
    return a_offset(mn + (q % 2) * 8 + r, (k + (q / 2) * 8) / 8);
}

// Element offset of chunk `chunk` of row `row` in a stage of Bs, swizzled.
__device__ __forceinline__ int b_offset(int row, int chunk)
{
    return (row * B_CHUNKS + (chunk ^ ((row / B_ROW_GROUP) % B_SWIZZLE))) * 8;
}

// Lane's ldmatrix address for the 16 x 16 block of B at (n = mn, k): lane l names row l % 8 of matrix l / 8;
// matrices (n, k) = (0-7, 0-7), (0-7, 8-15), (8-15, 0-7), (8-15, 8-15) give b0, b1 of two n-tiles.
__device__ __forceinline__ int b_fragment(int mn, int k)
{
    const int lane = threadIdx.x % 32, q = lane / 8, r = lane % 8;
    return b_offset(mn + (q / 2) * 8 + r, (k + (q % 2) * 8) / 8);
}

typedef unsigned short in_t;  // A and B elements
typedef float out_t;
__device__ __forceinline__ float to_float(out_t x) { return x; }
__device__ __forceinline__ out_t from_float(float x) { return x; }

__device__ __forceinline__ float activation(float x) { return x; }

// The epilogue's formula on one element, in fp32: alpha * op(A) * op(B) + beta * C; c is not read when beta == 0.
__device__ __forceinline__ float epilogue(float acc, float c, float alpha, float beta)
{
    float v = alpha * acc;
    if (beta != 0.0f) v = fmaf(beta, c, v);
    return activation(v);
}

// One element of a row of C that is inside M, converted to the output type. Columns outside N are skipped.
__device__ __forceinline__ void store_c(out_t* __restrict__ c_row, int N, int col, float acc, float alpha, float beta)
{
    if (col >= N) return;
    c_row[col] = from_float(epilogue(acc, beta != 0.0f ? to_float(c_row[col]) : 0.0f, alpha, beta));
}

struct __align__(2 * sizeof(out_t)) out_pair { out_t x, y; };

// Whether C's rows (and the bias) are aligned to 2-element accesses: ldc even, pointers pair-aligned.
__device__ __forceinline__ bool c_by_pair(const out_t* C, int ldc)
{
    return ldc % 2 == 0 && reinterpret_cast<unsigned long long>(C) % sizeof(out_pair) == 0;
}

// Columns col and col + 1 (col even) of a row of C inside M: one 2-element store (and one bias and C read) when
// by_pair and both are inside N, else element by element.
__device__ __forceinline__ void store_c_pair(out_t* __restrict__ c_row, int N, int col, float v0, float v1, float alpha, float beta, bool by_pair)
{
    if (by_pair && col + 1 < N) {
        out_pair* const at = reinterpret_cast<out_pair*>(c_row + col);
        const out_pair old = beta != 0.0f ? *at : out_pair{};
        const out_pair value = {from_float(epilogue(v0, to_float(old.x), alpha, beta)), from_float(epilogue(v1, to_float(old.y), alpha, beta))};
        *at = value;  // one 2-element store (a braced temporary may be stored member by member)
        return;
    }
    store_c(c_row, N, col, v0, alpha, beta);
    store_c(c_row, N, col + 1, v1, alpha, beta);
}

// Tile `tile` in grouped order: consecutive indices walk down RASTER_GROUP tile rows (fewer in the last group),
// then one tile column right, so the tiles in flight together share panels of A and B in L2.
constexpr int RASTER_GROUP = 8;
__device__ __forceinline__ void grouped_tile(int tile, int tiles_m, int tiles_n, int& tile_m, int& tile_n)
{
    const int group = tile / (RASTER_GROUP * tiles_n), first_row = group * RASTER_GROUP;
    const int group_rows = min(tiles_m - first_row, RASTER_GROUP);
    const int in_group = tile - group * (RASTER_GROUP * tiles_n);
    tile_m = first_row + in_group % group_rows;
    tile_n = in_group / group_rows;
}

extern "C" __global__ void __launch_bounds__(THREADS, 1) kd_gemm_KernelDsl_GpuRunner_F16Tn64x32x32(
    const in_t* __restrict__ A, const in_t* __restrict__ B, out_t* __restrict__ C,
    int M, int N, int K, int lda, int ldb, int ldc, float alpha, float beta)
{
    extern __shared__ __align__(16) unsigned char shared_bytes[];  // STAGES x (As, Bs)
    in_t* const shared = reinterpret_cast<in_t*>(shared_bytes);
    const int tid = threadIdx.x;
    int tile_m, tile_n;  // this block's tile of C: the launch's linear block index in grouped order
    grouped_tile(blockIdx.y * gridDim.x + blockIdx.x, gridDim.y, gridDim.x, tile_m, tile_n);
    const int block_m = tile_m * BM, block_n = tile_n * BN;
    const int warp = tid / 32, lane = tid % 32;
    const int warp_m = warp / WARPS_N, warp_n = warp % WARPS_N;  // this warp's place in the warp grid
    // Lane's ldmatrix byte offset in a stage of As for each 16-deep k step, at the warp tile's first rows; the
    // next 16 rows are two whole swizzle periods on, so they add 16 * A_CHUNKS * 16 bytes, an immediate offset.
    int a_frag[BK / 16];
    #pragma unroll
    for (int step = 0; step < BK / 16; ++step) a_frag[step] = a_fragment(warp_m * WTM, step * 16) * (int)sizeof(in_t);
    // Lane's ldmatrix byte offset in a stage of Bs for each 16-deep k step, at the warp tile's first rows; the
    // next 16 rows are two whole swizzle periods on, so they add 16 * B_CHUNKS * 16 bytes, an immediate offset.
    int b_frag[BK / 16];
    #pragma unroll
    for (int step = 0; step < BK / 16; ++step) b_frag[step] = b_fragment(warp_n * WTN, step * 16) * (int)sizeof(in_t);
    // A copies: this thread copies chunk a_chunk of stored rows a_row + A_COPY_ROWS * i (i < A_PASSES) in every K slice.
    const int a_row = tid / A_CHUNKS, a_chunk = tid % A_CHUNKS;
    const int a_smem = a_offset(a_row, a_chunk);
    const long long a_pass = (long long)A_COPY_ROWS * lda;  // source elements between passes
    const int a_rows_inside = M - (block_m + a_row);  // pass i is inside M when A_COPY_ROWS * i < this
    const in_t* const a_src = A + (long long)(block_m + a_row) * lda + a_chunk * 8;  // + k0 per slice
    // B copies: this thread copies chunk b_chunk of stored rows b_row + B_COPY_ROWS * i (i < B_PASSES) in every K slice.
    const int b_row = tid / B_CHUNKS, b_chunk = tid % B_CHUNKS;
    const int b_smem = b_offset(b_row, b_chunk);
    const long long b_pass = (long long)B_COPY_ROWS * ldb;  // source elements between passes
    const int b_rows_inside = N - (block_n + b_row);  // pass i is inside N when B_COPY_ROWS * i < this
    const in_t* const b_src = B + (long long)(block_n + b_row) * ldb + b_chunk * 8;  // + k0 per slice

    // Issue the copies of K slice `tile` into shared stage `stage` (not waited for here).
    auto load_tile = [&](int stage, int tile) {
        in_t* As = shared + stage * (A_STAGE + B_STAGE);
        in_t* Bs = As + A_STAGE;
        const int k0 = tile * BK;
        {  // A rows run along K: K % 8 == 0 (checked at launch), so a chunk of 8 k's is wholly inside or outside.
            const bool k_inside = k0 + a_chunk * 8 < K;
            #pragma unroll
            for (int i = 0; i < A_PASSES; ++i) {
                const bool inside = k_inside && A_COPY_ROWS * i < a_rows_inside;
                copy_async_16(&As[a_smem + i * (A_COPY_ROWS * A_CHUNKS * 8)], a_src + k0 + i * a_pass, inside ? 16 : 0);
            }
        }
        {  // B rows run along K: K % 8 == 0 (checked at launch), so a chunk of 8 k's is wholly inside or outside.
            const bool k_inside = k0 + b_chunk * 8 < K;
            #pragma unroll
            for (int i = 0; i < B_PASSES; ++i) {
                const bool inside = k_inside && B_COPY_ROWS * i < b_rows_inside;
                copy_async_16(&Bs[b_smem + i * (B_COPY_ROWS * B_CHUNKS * 8)], b_src + k0 + i * b_pass, inside ? 16 : 0);
            }
        }
    };

    float acc[MI][NI][4] = {};
    const int k_tiles = (K + BK - 1) / BK;

    // Prologue: start the first STAGES - 1 slices. Every iteration commits a group, even an empty
    // one, so "all but the newest STAGES - 1 groups" is always the slice about to be multiplied.
    #pragma unroll
    for (int s = 0; s < STAGES - 1; ++s) {
        if (s < k_tiles) load_tile(s, s);
        copy_async_commit();
    }

    // STAGES slices per trip: slice `tile` sits in stage s, a constant once unrolled, so its shared offsets
    // are immediates; the slice issued ahead goes to the stage freed one slice earlier, (s + STAGES - 1) % STAGES.
    for (int first = 0; first < k_tiles; first += STAGES) {
        #pragma unroll
        for (int s = 0; s < STAGES; ++s) {
            const int tile = first + s;
            if (tile == k_tiles) break;
            const int ahead = tile + STAGES - 1;
            if (ahead < k_tiles) load_tile((s + STAGES - 1) % STAGES, ahead);
            copy_async_commit();
            copy_async_wait<STAGES - 1>();
            __syncthreads();  // slice `tile` is in shared memory for every thread

            const in_t* As = shared + s * (A_STAGE + B_STAGE);
            const in_t* Bs = As + A_STAGE;
            #pragma unroll
            for (int kk = 0; kk < BK; kk += 16) {
                unsigned a[MI][4], b[NI][2];
                #pragma unroll
                for (int i = 0; i < MI; ++i) ldmatrix_x4(a[i], reinterpret_cast<const unsigned char*>(As) + a_frag[kk / 16] + (i) * (16 * A_CHUNKS * 16));
                #pragma unroll
                for (int j = 0; j < NI; j += 2) {
                    unsigned pair[4];
                    ldmatrix_x4(pair, reinterpret_cast<const unsigned char*>(Bs) + b_frag[kk / 16] + (j / 2) * (16 * B_CHUNKS * 16));
                    b[j][0] = pair[0]; b[j][1] = pair[1]; b[j + 1][0] = pair[2]; b[j + 1][1] = pair[3];
                }
                #pragma unroll
                for (int i = 0; i < MI; ++i) {
                    #pragma unroll
                    for (int j = 0; j < NI; ++j) mma_16x8x16_f16(acc[i][j], a[i], b[j]);
                }
            }
            __syncthreads();  // everyone is done with this stage before a later iteration refills it
        }
    }

    // Epilogue: every accumulator through the epilogue formula (store_c for single elements).
    // acc[i][j][2h + e] is row g + 8h, column 2t + e of MMA tile (i, j): a lane's two columns go out together.
    const bool by_pair = c_by_pair(C, ldc);
    #pragma unroll
    for (int i = 0; i < MI; ++i) {
        #pragma unroll
        for (int h = 0; h < 2; ++h) {
            const int row = block_m + warp_m * WTM + i * 16 + lane / 4 + h * 8;
            if (row >= M) continue;
            out_t* c_row = C + (long long)row * ldc;
            #pragma unroll
            for (int j = 0; j < NI; ++j) {
                const int col = block_n + warp_n * WTN + j * 8 + (lane % 4) * 2;
                store_c_pair(c_row, N, col, acc[i][j][2 * h], acc[i][j][2 * h + 1], alpha, beta, by_pair);
            }
        }
    }
}