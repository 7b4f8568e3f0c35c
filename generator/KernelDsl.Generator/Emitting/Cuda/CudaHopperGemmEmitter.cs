using KernelDsl.Generator.Model;
using KernelDsl.Generator.Planning;

namespace KernelDsl.Generator.Emitting.Cuda;

/// <summary>
/// Prints the sm_90a CUDA C of a GEMM plan's <see cref="HopperGemmPlan"/>: a warp-specialised, persistent kernel (TMA
/// producer, wgmma consumers, an mbarrier ring of stages) with the same epilogue functions as the sm_80 kernel
/// (<see cref="CudaGemmEmitter.EmitStore"/>). Self-contained; needs NVRTC 12 or newer and an sm_90a target.
/// </summary>
internal static class CudaHopperGemmEmitter
{
    public static string Emit(GemmPlan plan, HopperGemmPlan hopper)
    {
        var o = plan.Operands;
        var w = new CodeWriter();
        EmitHeader(w, plan, hopper);
        w.Lines($$"""
            constexpr int TM = {{Literals.Int(hopper.TileM)}}, TN = {{Literals.Int(hopper.TileN)}}, BK = {{Literals.Int(hopper.TileK)}}, STAGES = {{Literals.Int(hopper.Stages)}};
            constexpr int CONSUMERS = {{Literals.Int(hopper.ConsumerWarpgroups)}}, MMA_BLOCKS = {{Literals.Int(hopper.MmaBlocks)}};  // consumer warpgroups; 64-row wgmma blocks each
            constexpr int CONSUMER_ROWS = TM / CONSUMERS;
            constexpr int THREADS = {{Literals.Int(hopper.Threads)}};
            constexpr int PRODUCER_REGISTERS = {{Literals.Int(HopperGemmPlan.ProducerRegisters)}}, CONSUMER_REGISTERS = {{Literals.Int(HopperGemmPlan.ConsumerRegisters)}};
            constexpr int SWIZZLE = {{Literals.Int(hopper.SwizzleBytes)}};         // bytes: one box row, the swizzle span of the maps and descriptors
            constexpr int SWIZZLE_MODE = {{Literals.Int(hopper.DescriptorSwizzleMode)}};     // the descriptors' code for it (1 = 128 B, 2 = 64 B, 3 = 32 B)
            constexpr int BOX_K = SWIZZLE / 2;    // elements of K per box row
            constexpr int BOXES = BK / BOX_K;     // boxes per operand and stage
            constexpr int A_BOX = TM * SWIZZLE, B_BOX = TN * SWIZZLE;  // bytes
            constexpr int STAGE = BOXES * (A_BOX + B_BOX);              // bytes per stage
            """);
        w.Line();
        PtxPrelude.Emit(w, PtxHelpers.AsyncCopy | PtxHelpers.Mbarrier | PtxHelpers.Tma | PtxHelpers.Wgmma | PtxPrelude.Conversions(o.Output),
            (o.Element, hopper.TileN));
        w.Line();
        w.Line($"typedef {CudaDeviceFunctions.StorageType(o.Element)} in_t;  // A and B elements");
        w.Lines(CudaDeviceFunctions.OutputConversions(o.Output));
        w.Line();
        w.Lines(CudaDeviceFunctions.Activation(plan.Epilogue.Activation));
        w.Line();
        CudaGemmEmitter.EmitStore(w, plan);
        w.Line();
        w.Lines(CudaDeviceFunctions.GroupedTileOrder(HopperGemmPlan.RasterGroup));
        w.Line();
        EmitKernel(w, plan, hopper);
        return w.ToString();
    }

    private static void EmitHeader(CodeWriter w, GemmPlan plan, HopperGemmPlan h)
    {
        var o = plan.Operands;
        w.Lines($$"""
            // KernelDsl: {{plan.Kernel.QualifiedName}}, {{o.Element}} GEMM on Hopper tensor cores (sm_90a), {{o.Output}} output. Generated; do not edit.
            //   C = {{CudaGemmEmitter.Formula(plan)}}
            //   op(A) = A, stored M x K; op(B) = B^T, B stored N x K (both K-major, the layout wgmma reads); C is M x N; all row-major.
            //
            // Tiling
            //   A block of {{h.Threads}} threads is {{h.ConsumerWarpgroups + 1}} warpgroups of 128. Warpgroup 0 is the producer: its first thread copies each
            //   {{h.TileK}}-deep K slice of A ({{h.TileM}} x {{h.TileK}}) and B ({{h.TileN}} x {{h.TileK}}) into one of {{h.Stages}} shared stages with TMA. {{Consumers(h)}}
            //   {{h.TileM / h.ConsumerWarpgroups}} rows of the {{h.TileM}} x {{h.TileN}} tile of C: {{Count(h.MmaBlocks, "block", "blocks")}} of 64 rows, one wgmma m64n{{h.TileN}}k16 per
            //   block and 16-deep k step, {{h.Accumulators}} fp32 accumulators a thread. setmaxnreg moves registers from the producer
            //   ({{HopperGemmPlan.ProducerRegisters}}) to the consumers ({{HopperGemmPlan.ConsumerRegisters}}).
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
            //   A stage is {{Count(h.Boxes, "box", "boxes")}} of A ({{h.TileM}} rows x {{h.BoxK}} elements) then {{h.Boxes}} of B ({{h.TileN}} x {{h.BoxK}}): each box row is one
            //   {{h.SwizzleBytes}}-byte swizzle span, and 8 rows are one swizzle pattern, so a row's 16-byte chunks land in different
            //   bank groups for the wgmma reads. The stages start on a 1024-byte boundary (the 128-byte swizzle's repeat) so
            //   the pattern TMA writes is the one the descriptors read; the full and empty mbarriers follow the stages.
            //   {{h.StageBytes}} bytes per stage, {{h.SharedBytes}} bytes in all with mbarriers and alignment slack (dynamic shared memory).

            """);
    }

    private static string Count(int n, string one, string many) => $"{n} {(n == 1 ? one : many)}";

    private static string Consumers(HopperGemmPlan h) =>
        h.ConsumerWarpgroups == 1 ? "The consumer warpgroup owns all" : $"Each of the {h.ConsumerWarpgroups} consumer warpgroups owns";

    private static void EmitKernel(CodeWriter w, GemmPlan plan, HopperGemmPlan h)
    {
        bool hasBias = plan.Epilogue.Bias;
        string wgmma = PtxPrelude.WgmmaName(plan.Operands.Element);
        w.Lines($$"""
            // The descriptor of the 16-deep k step at kk of an operand tile of `rows` rows whose boxes start at `tile`, from
            // row `row` on (a multiple of 8, so it starts on the swizzle pattern): 8-row groups are 8 spans apart (SBO); the
            // step starts kk % BOX_K elements into its box's rows, and the hardware swizzles the address it computes as TMA did.
            __device__ __forceinline__ unsigned long long operand_descriptor(const unsigned char* tile, int rows, int row, int kk)
            {
                return wgmma_descriptor(tile + (kk / BOX_K) * rows * SWIZZLE + row * SWIZZLE + (kk % BOX_K) * 2, 16, 8 * SWIZZLE, SWIZZLE_MODE);
            }

            extern "C" __global__ void __launch_bounds__(THREADS, 1) {{h.EntryPoint}}(
                const __grid_constant__ tensor_map a_map, const __grid_constant__ tensor_map b_map, out_t* __restrict__ C,{{(hasBias ? " const out_t* __restrict__ bias," : "")}}
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
                const bool by_pair = c_by_pair(C,{{(hasBias ? " bias," : "")}} ldc);
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
                                {{wgmma}}<TN>(acc[mb], operand_descriptor(a_tile, TM, consumer * CONSUMER_ROWS + mb * 64, kk), operand_descriptor(b_tile, TN, 0, kk), 1);
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
                            if (row < M) store_c_pair(C + (long long)row * ldc,{{(hasBias ? " bias," : "")}} N, col, acc[mb][v], acc[mb][v + 1], alpha, beta, by_pair);
                        }
                    }
                }
            }
            """);
    }
}
