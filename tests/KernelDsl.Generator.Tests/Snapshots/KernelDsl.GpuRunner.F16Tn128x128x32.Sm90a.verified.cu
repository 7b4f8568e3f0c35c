// KernelDsl: KernelDsl.GpuRunner.F16Tn128x128x32, F16 GEMM on Hopper tensor cores (sm_90a), F32 output. Generated; do not edit.
//   C = alpha * op(A) * op(B) + beta * C
//   op(A) = A, stored M x K; op(B) = B^T, B stored N x K (both K-major, the layout wgmma reads); C is M x N; all row-major.
//
// Tiling
//   A block of 384 threads is 3 warpgroups of 128. Warpgroup 0 is the producer: its first thread copies each
//   32-deep K slice of A (128 x 32) and B (128 x 32) into one of 4 shared stages with TMA. Each of the 2 consumer warpgroups owns
//   64 rows of the 128 x 128 tile of C: 1 block of 64 rows, one wgmma m64n128k16 per
//   block and 16-deep k step, 64 fp32 accumulators a thread. setmaxnreg moves registers from the producer
//   (40) to the consumers (232).
//   The grid is persistent: block b computes tiles b, b + gridDim.x, ... in grouped order (grouped_tile), so the
//   producer loads the next tile's slices while the consumers store the last tile.
//
// Pipeline
//   Slices are counted over all of a block's tiles: slice i uses stage i % STAGES in that stage's phase
//   (i / STAGES) & 1. full[s] completes when the producer has armed it with the stage's bytes and TMA has
//   delivered them; empty[s] completes when every consumer warpgroup has retired the wgmmas that read the stage.
//   A consumer keeps one slice's wgmma group in flight (wgmma_wait<1>) and releases the slice before it.
//   Elements outside M, N or K arrive as zeros from TMA, so ragged shapes need no case in the main loop; only
//   the epilogue checks bounds.
//
// Shared memory
//   A stage is 1 box of A (128 rows x 32 elements) then 1 of B (128 x 32): each box row is one
//   64-byte swizzle span, and 8 rows are one swizzle pattern, so a row's 16-byte chunks land in different
//   bank groups for the wgmma reads. The stages start on a 1024-byte boundary (the 128-byte swizzle's repeat) so
//   the pattern TMA writes is the one the descriptors read; the full and empty mbarriers follow the stages.
//   16384 bytes per stage, 66624 bytes in all with mbarriers and alignment slack (dynamic shared memory).
constexpr int TM = 128, TN = 128, BK = 32, STAGES = 4;
constexpr int CONSUMERS = 2, MMA_BLOCKS = 1;  // consumer warpgroups; 64-row wgmma blocks each
constexpr int CONSUMER_ROWS = TM / CONSUMERS;
constexpr int THREADS = 384;
constexpr int PRODUCER_REGISTERS = 40, CONSUMER_REGISTERS = 232;
constexpr int SWIZZLE = 64;         // bytes: one box row, the swizzle span of the maps and descriptors
constexpr int SWIZZLE_MODE = 2;     // the descriptors' code for it (1 = 128 B, 2 = 64 B, 3 = 32 B)
constexpr int BOX_K = SWIZZLE / 2;    // elements of K per box row
constexpr int BOXES = BK / BOX_K;     // boxes per operand and stage
constexpr int A_BOX = TM * SWIZZLE, B_BOX = TN * SWIZZLE;  // bytes
constexpr int STAGE = BOXES * (A_BOX + B_BOX);              // bytes per stage

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

// mbarriers (sm_90): a phase completes when `count` threads have arrived and every transaction byte an
// arrive announced (expect_tx) has landed; waiters name the phase by its parity.
__device__ __forceinline__ void mbarrier_init(unsigned long long* bar, unsigned count)
{
    asm volatile("mbarrier.init.shared::cta.b64 [%0], %1;\n" :: "r"(shared_address(bar)), "r"(count) : "memory");
}

// Makes initialised mbarriers visible to the TMA unit (the async proxy) before any copy completes on them.
__device__ __forceinline__ void mbarrier_init_fence()
{
    asm volatile("fence.mbarrier_init.release.cluster;\n" ::: "memory");
}

__device__ __forceinline__ void mbarrier_arrive(unsigned long long* bar)
{
    asm volatile("{\n.reg .b64 state;\nmbarrier.arrive.shared::cta.b64 state, [%0];\n}\n" :: "r"(shared_address(bar)) : "memory");
}

// Announces `bytes` transaction bytes (the TMA copies this phase waits for), then arrives.
__device__ __forceinline__ void mbarrier_arrive_expect_tx(unsigned long long* bar, unsigned bytes)
{
    asm volatile("{\n.reg .b64 state;\nmbarrier.arrive.expect_tx.shared::cta.b64 state, [%0], %1;\n}\n"
                 :: "r"(shared_address(bar)), "r"(bytes) : "memory");
}

// Returns once the phase of parity `parity` has completed (try_wait suspends the thread for a while, then retries).
__device__ __forceinline__ void mbarrier_wait(unsigned long long* bar, unsigned parity)
{
    asm volatile("{\n.reg .pred done;\nretry:\nmbarrier.try_wait.parity.shared::cta.b64 done, [%0], %1;\n@!done bra retry;\n}\n"
                 :: "r"(shared_address(bar)), "r"(parity) : "memory");
}

// A CUtensorMap: encoded on the host (cuTensorMapEncodeTiled), passed as a __grid_constant__ parameter.
struct __align__(64) tensor_map { unsigned long long opaque[16]; };

// TMA: the box of `map` whose first element is (x, y), x along the contiguous dimension, into shared `dst`
// (elements outside the tensor arrive as zeros); its bytes complete on the mbarrier `bar`.
__device__ __forceinline__ void tma_load_2d(void* dst, const tensor_map* map, int x, int y, unsigned long long* bar)
{
    asm volatile("cp.async.bulk.tensor.2d.shared::cluster.global.tile.mbarrier::complete_tx::bytes [%0], [%1, {%2, %3}], [%4];\n"
                 :: "r"(shared_address(dst)), "l"(reinterpret_cast<unsigned long long>(map)), "r"(x), "r"(y), "r"(shared_address(bar))
                 : "memory");
}

// Warpgroup MMA (sm_90a). The fence orders the accumulator registers before the asynchronous MMAs that use them;
// commit closes a group of MMAs; wait returns when at most `pending` groups are still in flight.
__device__ __forceinline__ void wgmma_fence() { asm volatile("wgmma.fence.sync.aligned;\n" ::: "memory"); }

__device__ __forceinline__ void wgmma_commit() { asm volatile("wgmma.commit_group.sync.aligned;\n" ::: "memory"); }

template <int pending>
__device__ __forceinline__ void wgmma_wait() { asm volatile("wgmma.wait_group.sync.aligned %0;\n" :: "n"(pending) : "memory"); }

// Keeps the compiler from moving accumulator reads or writes across a wgmma_wait: the registers are written
// asynchronously, which the compiler cannot see.
template <int n>
__device__ __forceinline__ void wgmma_fence_accumulators(float (&d)[n])
{
    #pragma unroll
    for (int i = 0; i < n; ++i) asm volatile("" : "+f"(d[i]) :: "memory");
}

// Moves registers between warpgroups: consumers take more (inc), producers give theirs up (dec).
template <int registers>
__device__ __forceinline__ void setmaxnreg_inc() { asm volatile("setmaxnreg.inc.sync.aligned.u32 %0;\n" :: "n"(registers)); }

template <int registers>
__device__ __forceinline__ void setmaxnreg_dec() { asm volatile("setmaxnreg.dec.sync.aligned.u32 %0;\n" :: "n"(registers)); }

// d (64 x N, fp32, CUTLASS's CLayout_64xN) = a (64 x 16) * b^T (b stored N x 16) + (scale_d ? d : 0), f16
// operands in shared memory, both K-major, through their descriptors; asynchronous until wgmma_wait.
template <int n>
__device__ void wgmma_f16(float (&d)[n / 2], unsigned long long a, unsigned long long b, int scale_d);

template <>
__device__ __forceinline__ void wgmma_f16<128>(float (&d)[64], unsigned long long a, unsigned long long b, int scale_d)
{
    asm volatile("{\n.reg .pred p;\nsetp.ne.b32 p, %66, 0;\n"
                 "wgmma.mma_async.sync.aligned.m64n128k16.f32.f16.f16 {%0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11, %12, %13, %14, %15, %16, %17, %18, %19, %20, %21, %22, %23, %24, %25, %26, %27, %28, %29, %30, %31, %32, %33, %34, %35, %36, %37, %38, %39, %40, %41, %42, %43, %44, %45, %46, %47, %48, %49, %50, %51, %52, %53, %54, %55, %56, %57, %58, %59, %60, %61, %62, %63}, %64, %65, p, 1, 1, 0, 0;\n}\n"
                 : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3]), "+f"(d[4]), "+f"(d[5]), "+f"(d[6]), "+f"(d[7]), "+f"(d[8]), "+f"(d[9]), "+f"(d[10]), "+f"(d[11]), "+f"(d[12]), "+f"(d[13]), "+f"(d[14]), "+f"(d[15]), "+f"(d[16]), "+f"(d[17]), "+f"(d[18]), "+f"(d[19]), "+f"(d[20]), "+f"(d[21]), "+f"(d[22]), "+f"(d[23]), "+f"(d[24]), "+f"(d[25]), "+f"(d[26]), "+f"(d[27]), "+f"(d[28]), "+f"(d[29]), "+f"(d[30]), "+f"(d[31]), "+f"(d[32]), "+f"(d[33]), "+f"(d[34]), "+f"(d[35]), "+f"(d[36]), "+f"(d[37]), "+f"(d[38]), "+f"(d[39]), "+f"(d[40]), "+f"(d[41]), "+f"(d[42]), "+f"(d[43]), "+f"(d[44]), "+f"(d[45]), "+f"(d[46]), "+f"(d[47]), "+f"(d[48]), "+f"(d[49]), "+f"(d[50]), "+f"(d[51]), "+f"(d[52]), "+f"(d[53]), "+f"(d[54]), "+f"(d[55]), "+f"(d[56]), "+f"(d[57]), "+f"(d[58]), "+f"(d[59]), "+f"(d[60]), "+f"(d[61]), "+f"(d[62]), "+f"(d[63])
                 : "l"(a), "l"(b), "r"(scale_d));
}
#endif  // KERNELDSL_EMULATION (end of the PTX prelude)

// A wgmma shared-memory matrix descriptor (PTX ISA, "Matrix Descriptor Format"): start address, leading and
// stride byte offsets in 16-byte units (bits 0-13, 16-29, 32-45), base offset 0 (bits 49-51: the tile is
// aligned to its swizzle pattern) and the swizzle mode in bits 62-63 (0 none, 1 128 B, 2 64 B, 3 32 B).
__device__ __forceinline__ unsigned long long wgmma_descriptor(const void* tile, unsigned leading_bytes, unsigned stride_bytes, unsigned swizzle_mode)
{
    return static_cast<unsigned long long>((shared_address(tile) & 0x3FFFF) >> 4)
         | static_cast<unsigned long long>((leading_bytes & 0x3FFFF) >> 4) << 16
         | static_cast<unsigned long long>((stride_bytes & 0x3FFFF) >> 4) << 32
         | static_cast<unsigned long long>(swizzle_mode & 3) << 62;
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

// The descriptor of the 16-deep k step at kk of an operand tile of `rows` rows whose boxes start at `tile`, from
// row `row` on (a multiple of 8, so it starts on the swizzle pattern): 8-row groups are 8 spans apart (SBO); the
// step starts kk % BOX_K elements into its box's rows, and the hardware swizzles the address it computes as TMA did.
__device__ __forceinline__ unsigned long long operand_descriptor(const unsigned char* tile, int rows, int row, int kk)
{
    return wgmma_descriptor(tile + (kk / BOX_K) * rows * SWIZZLE + row * SWIZZLE + (kk % BOX_K) * 2, 16, 8 * SWIZZLE, SWIZZLE_MODE);
}

extern "C" __global__ void __launch_bounds__(THREADS, 1) kd_gemm_sm90a_KernelDsl_GpuRunner_F16Tn128x128x32(
    const __grid_constant__ tensor_map a_map, const __grid_constant__ tensor_map b_map, out_t* __restrict__ C,
    int M, int N, int K, int ldc, float alpha, float beta)
{
    extern __shared__ __align__(16) unsigned char shared_bytes[];
    unsigned char* const shared = shared_bytes + (1024 - shared_address(shared_bytes) % 1024) % 1024;
    unsigned long long* const full = reinterpret_cast<unsigned long long*>(shared + STAGES * STAGE);
    unsigned long long* const empty = full + STAGES;
    const int tiles_m = (M + TM - 1) / TM, tiles_n = (N + TN - 1) / TN, tiles = tiles_m * tiles_n;
    const int k_tiles = (K + BK - 1) / BK;
    if (threadIdx.x == 0) {
        for (int s = 0; s < STAGES; ++s) {
            mbarrier_init(&full[s], 1);           // the producer's arrive_expect_tx
            mbarrier_init(&empty[s], CONSUMERS);  // one arrival per consumer warpgroup
        }
        mbarrier_init_fence();
    }
    __syncthreads();

    if (threadIdx.x < 128) {  // the producer warpgroup: thread 0 issues every copy
        setmaxnreg_dec<PRODUCER_REGISTERS>();
        if (threadIdx.x == 0) {
            int slice = 0;
            for (int tile = blockIdx.x; tile < tiles; tile += gridDim.x) {
                int tile_m, tile_n;
                grouped_tile(tile, tiles_m, tiles_n, tile_m, tile_n);
                for (int kt = 0; kt < k_tiles; ++kt, ++slice) {
                    const int s = slice % STAGES;
                    // Wait until the consumers released the stage's previous slice; in the first round the
                    // "previous phase" (parity 1) of a fresh mbarrier counts as complete.
                    mbarrier_wait(&empty[s], ((slice / STAGES) & 1) ^ 1);
                    mbarrier_arrive_expect_tx(&full[s], STAGE);
                    unsigned char* const stage = shared + s * STAGE;
                    #pragma unroll
                    for (int b = 0; b < BOXES; ++b) {
                        tma_load_2d(stage + b * A_BOX, &a_map, kt * BK + b * BOX_K, tile_m * TM, &full[s]);
                        tma_load_2d(stage + BOXES * A_BOX + b * B_BOX, &b_map, kt * BK + b * BOX_K, tile_n * TN, &full[s]);
                    }
                }
            }
        }
        return;
    }

    setmaxnreg_inc<CONSUMER_REGISTERS>();
    const int consumer = threadIdx.x / 128 - 1, t = threadIdx.x % 128;
    // CUTLASS's CLayout_64xN (include/cute/atom/mma_traits_sm90_gmma.hpp): value v of thread t in a 64-row block is
    // row 16 (t / 32) + (t % 32) / 4 + 8 ((v / 2) % 2), column 2 (t % 4) + v % 2 + 8 (v / 4).
    const int thread_row = consumer * CONSUMER_ROWS + 16 * (t / 32) + (t % 32) / 4, thread_col = 2 * (t % 4);
    const bool by_pair = c_by_pair(C, ldc);
    int slice = 0;
    for (int tile = blockIdx.x; tile < tiles; tile += gridDim.x) {
        int tile_m, tile_n;
        grouped_tile(tile, tiles_m, tiles_n, tile_m, tile_n);
        float acc[MMA_BLOCKS][TN / 2];
        #pragma unroll
        for (int mb = 0; mb < MMA_BLOCKS; ++mb) {
            #pragma unroll
            for (int v = 0; v < TN / 2; ++v) acc[mb][v] = 0.0f;
        }
        for (int kt = 0; kt < k_tiles; ++kt, ++slice) {
            const int s = slice % STAGES;
            mbarrier_wait(&full[s], (slice / STAGES) & 1);
            const unsigned char* const a_tile = shared + s * STAGE;
            const unsigned char* const b_tile = a_tile + BOXES * A_BOX;
            #pragma unroll
            for (int mb = 0; mb < MMA_BLOCKS; ++mb) wgmma_fence_accumulators(acc[mb]);
            wgmma_fence();
            #pragma unroll
            for (int kk = 0; kk < BK; kk += 16) {
                #pragma unroll
                for (int mb = 0; mb < MMA_BLOCKS; ++mb) {
                    wgmma_f16<TN>(acc[mb], operand_descriptor(a_tile, TM, consumer * CONSUMER_ROWS + mb * 64, kk), operand_descriptor(b_tile, TN, 0, kk), 1);
                }
            }
            wgmma_commit();
            // This slice's group stays in flight; the one before it has retired, so its stage can be refilled.
            wgmma_wait<1>();
            #pragma unroll
            for (int mb = 0; mb < MMA_BLOCKS; ++mb) wgmma_fence_accumulators(acc[mb]);
            if (kt > 0 && t == 0) mbarrier_arrive(&empty[(slice + STAGES - 1) % STAGES]);
        }
        wgmma_wait<0>();
        #pragma unroll
        for (int mb = 0; mb < MMA_BLOCKS; ++mb) wgmma_fence_accumulators(acc[mb]);
        if (k_tiles > 0 && t == 0) mbarrier_arrive(&empty[(slice + STAGES - 1) % STAGES]);

        // Epilogue: straight from registers, each thread's two adjacent columns (values v, v + 1) together.
        #pragma unroll
        for (int mb = 0; mb < MMA_BLOCKS; ++mb) {
            #pragma unroll
            for (int v = 0; v < TN / 2; v += 2) {
                const int row = tile_m * TM + thread_row + mb * 64 + 8 * ((v / 2) % 2);
                const int col = tile_n * TN + thread_col + 8 * (v / 4);
                if (row < M) store_c_pair(C + (long long)row * ldc, N, col, acc[mb][v], acc[mb][v + 1], alpha, beta, by_pair);
            }
        }
    }
}