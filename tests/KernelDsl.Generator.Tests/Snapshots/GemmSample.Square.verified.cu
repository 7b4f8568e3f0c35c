// KernelDsl: GemmSample.Square, F32 GEMM on CUDA cores (SIMT), F32 output. Generated; do not edit.
//   C = alpha * op(A) * op(B) + beta * C
//   op(A) = A, stored M x K; op(B) = B, stored K x N; C is M x N; all row-major.
//
// Tiling
//   A block of 256 threads computes a 128 x 128 tile of C; its 2 x 4 warps each own a
//   64 x 32 warp tile.
//   The 32 lanes of a warp form a 8 x 4 grid; each lane keeps 8 x 8 accumulators
//   in registers (64 per thread), one FMA per element per k. A lane's rows come in runs of A_READ
//   (its columns in runs of B_READ), LANES_M * A_READ apart: lanes side by side own adjacent runs, so their
//   shared-memory reads are adjacent float4s and their stores of C (and reads of bias) adjacent 16-byte runs.
//   K is walked 16 at a time. Each step's A and B slices are copied into one of 3 shared-memory
//   stages with cp.async, up to 2 step(s) ahead of the step being multiplied.
//   Copies of elements outside M, N or K write zeros, which add nothing to the dot products, so ragged
//   shapes need no special case in the inner loop; only the epilogue checks bounds before storing.
//
// Shared memory, per stage, K-major: row k holds the slice's M (or N) values at that k, so a lane's
// consecutive rows (columns) at one k are adjacent and read as float4s.
//   As[16][132]  A rows run along K: 4-byte copies transpose them (rows padded by 4 floats against bank conflicts)
//   Bs[16][128]  B rows run along N: 16-byte copies of 4 elements when B is 16-byte aligned
//   16640 bytes per stage, 49920 bytes in all (dynamic shared memory).

constexpr int BM = 128, BN = 128, BK = 16;  // block tile
constexpr int WARPS_M = 2, WARPS_N = 4;  // warp grid
constexpr int THREADS = 32 * WARPS_M * WARPS_N;
constexpr int WTM = 64, WTN = 32;  // warp tile
constexpr int LANES_M = 8, LANES_N = 4;  // lanes of a warp
constexpr int TM = 8, TN = 8;  // accumulators per lane
constexpr int A_READ = 4, B_READ = 4;  // a lane's rows (columns) per run: one float4, or one float
constexpr int STAGES = 3;
constexpr int A_STRIDE = 132, B_STRIDE = 128;  // floats between k rows in shared memory
constexpr int A_STAGE = BK * A_STRIDE, B_STAGE = BK * B_STRIDE;  // floats per stage
static_assert(WARPS_M * WTM == BM && WARPS_N * WTN == BN, "warps tile the block");
static_assert(LANES_M * LANES_N == 32 && LANES_M * TM == WTM && LANES_N * TN == WTN, "lanes tile the warp");

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
#endif  // KERNELDSL_EMULATION (end of the PTX prelude)

typedef float in_t;  // A and B elements
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

extern "C" __global__ void __launch_bounds__(THREADS, 1) kd_gemm_GemmSample_Square(
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
    // First row and column of this lane's accumulators within the block tile: accumulator (i, j) is row
    // row0 + i / A_READ * LANES_M * A_READ + i % A_READ and column col0 + j / B_READ * LANES_N * B_READ + j % B_READ.
    const int row0 = warp_m * WTM + (lane / LANES_N) * A_READ;
    const int col0 = warp_n * WTN + (lane % LANES_N) * B_READ;
    const bool B_by_16 = ldb % 4 == 0 && reinterpret_cast<unsigned long long>(B) % 16 == 0;  // 16-byte copies allowed

    // Issue the copies of K slice `tile` into shared stage `stage` (not waited for here).
    auto load_tile = [&](int stage, int tile) {
        in_t* As = shared + stage * (A_STAGE + B_STAGE);
        in_t* Bs = As + A_STAGE;
        const int k0 = tile * BK;
        // A rows run along K: consecutive threads take consecutive k (coalesced reads) and transpose into As[k][m].
        #pragma unroll
        for (int e = tid; e < BM * BK; e += THREADS) {
            const int m = e / BK, k = e % BK;
            const bool inside = block_m + m < M && k0 + k < K;
            const in_t* src = inside ? A + (long long)(block_m + m) * lda + (k0 + k) : A;
            copy_async_4(&As[k * A_STRIDE + m], src, inside ? 4 : 0);
        }
        // B rows run along N: row k of the slice is a contiguous run of BN elements.
        if (B_by_16) {
            // Four elements per copy; a run cut by the edge copies what is inside and zero-fills the rest.
            #pragma unroll
            for (int e = tid; e < BK * (BN / 4); e += THREADS) {
                const int k = e / (BN / 4), n = e % (BN / 4) * 4;
                const int count = k0 + k < K ? min(max(N - (block_n + n), 0), 4) : 0;
                const in_t* src = count > 0 ? B + (long long)(k0 + k) * ldb + (block_n + n) : B;
                copy_async_16(&Bs[k * B_STRIDE + n], src, count * 4);
            }
        } else {
            #pragma unroll
            for (int e = tid; e < BK * BN; e += THREADS) {
                const int k = e / BN, n = e % BN;
                const bool inside = k0 + k < K && block_n + n < N;
                const in_t* src = inside ? B + (long long)(k0 + k) * ldb + (block_n + n) : B;
                copy_async_4(&Bs[k * B_STRIDE + n], src, inside ? 4 : 0);
            }
        }
    };

    float acc[TM][TN] = {};
    const int k_tiles = (K + BK - 1) / BK;

    // Prologue: start the first STAGES - 1 slices. Every iteration commits a group, even an empty
    // one, so "all but the newest STAGES - 1 groups" is always the slice about to be multiplied.
    #pragma unroll
    for (int s = 0; s < STAGES - 1; ++s) {
        if (s < k_tiles) load_tile(s, s);
        copy_async_commit();
    }

    for (int tile = 0; tile < k_tiles; ++tile) {
        const int ahead = tile + STAGES - 1;
        if (ahead < k_tiles) load_tile(ahead % STAGES, ahead);
        copy_async_commit();
        copy_async_wait<STAGES - 1>();
        __syncthreads();  // slice `tile` is in shared memory for every thread

        const in_t* As = shared + (tile % STAGES) * (A_STAGE + B_STAGE);
        const in_t* Bs = As + A_STAGE;
        #pragma unroll
        for (int k = 0; k < BK; ++k) {
            float a[TM], b[TN];
            #pragma unroll
            for (int i = 0; i < TM; i += 4) *reinterpret_cast<float4*>(&a[i]) = *reinterpret_cast<const float4*>(&As[k * A_STRIDE + row0 + i * LANES_M]);
            #pragma unroll
            for (int i = 0; i < TN; i += 4) *reinterpret_cast<float4*>(&b[i]) = *reinterpret_cast<const float4*>(&Bs[k * B_STRIDE + col0 + i * LANES_N]);
            #pragma unroll
            for (int i = 0; i < TM; ++i) {
                #pragma unroll
                for (int j = 0; j < TN; ++j) acc[i][j] = fmaf(a[i], b[j], acc[i][j]);
            }
        }
        __syncthreads();  // everyone is done with this stage before a later iteration refills it
    }

    // Epilogue: every accumulator through the epilogue formula (store_c for single elements).
    const bool C_by_16 = ldc % 4 == 0 && reinterpret_cast<unsigned long long>(C) % 16 == 0;
    #pragma unroll
    for (int i = 0; i < TM; ++i) {
        const int row = block_m + row0 + i / A_READ * LANES_M * A_READ + i % A_READ;
        if (row >= M) continue;
        out_t* c_row = C + (long long)row * ldc;
        #pragma unroll
        for (int j = 0; j < TN; j += B_READ) {
            const int col = block_n + col0 + j / B_READ * LANES_N * B_READ;
            if (C_by_16 && col + 3 < N) {
                const float4 old = beta != 0.0f ? *reinterpret_cast<const float4*>(c_row + col) : make_float4(0.0f, 0.0f, 0.0f, 0.0f);
                *reinterpret_cast<float4*>(c_row + col) = make_float4(
                    epilogue(acc[i][j], old.x, alpha, beta), epilogue(acc[i][j + 1], old.y, alpha, beta),
                    epilogue(acc[i][j + 2], old.z, alpha, beta), epilogue(acc[i][j + 3], old.w, alpha, beta));
                continue;
            }
            for (int e = 0; e < B_READ; ++e) store_c(c_row, N, col + e, acc[i][j + e], alpha, beta);
        }
    }
}