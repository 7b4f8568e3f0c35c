using System.Globalization;
using KernelDsl.Cuda;
using KernelDsl.Generator.Emitting;
using KernelDsl.Generator.Emitting.Cuda;

namespace KernelDsl.Generator.Tests.Hopper;

/// <summary>
/// A hand-written sm_90a GEMM on the prelude's Hopper helpers, the smallest kernel with the shape the generated sm_90a
/// GEMM will have: C (M × N, fp32) = A (M × K) · Bᵀ (B stored N × K), bf16, both operands K-major. A producer warpgroup
/// (one thread issues the TMA copies) and a consumer warpgroup (a 64 × 64 tile, wgmma m64n64k16) hand two shared stages
/// back and forth through full and empty mbarriers. Each stage holds a 64-deep K slice of A and B as boxes of the
/// swizzle span (<see cref="BoxK"/> elements of K per row), read by wgmma through descriptors of the same span. The
/// <c>mutation</c> hooks let the fault tests break one rule at a time.
/// </summary>
internal static class TmaWgmmaKernel
{
    public const string Entry = "tma_wgmma_gemm";
    public const int TileM = 64, TileN = 64, TileK = 64, Stages = 2, Threads = 256;

    /// <summary>Every swizzle mode a tensor map and a wgmma descriptor share, for the tests' theories.</summary>
    public static Xunit.TheoryData<TensorMapSwizzle> Swizzles() =>
        [TensorMapSwizzle.None, TensorMapSwizzle.Bytes32, TensorMapSwizzle.Bytes64, TensorMapSwizzle.Bytes128];

    /// <summary>Elements of K per box row: the swizzle span's worth of bf16, 8 (one 16-byte core-matrix row) without swizzle.</summary>
    public static int BoxK(TensorMapSwizzle swizzle) => swizzle == TensorMapSwizzle.None ? 8 : (int)swizzle / 2;

    /// <summary>Stages, two 8-byte mbarriers each, and up to 1024 bytes to align the stages to the 128-byte swizzle's pattern.</summary>
    public static int SharedBytes => Stages * (TileM + TileN) * TileK * 2 + Stages * 16 + 1024;

    /// <summary>The rules the fault tests break, one at a time.</summary>
    public enum Mutation
    {
        None,
        ConsumerWaitsWrongParity,
        NoFence,
        ProducerSkipsEmptyWait,
        ExpectsTooManyBytes,
        DescriptorSwizzleDiffers,
        ReadsAccumulatorsBeforeWait,
    }

    public static string Source(TensorMapSwizzle swizzle, Mutation mutation = Mutation.None)
    {
        var w = new CodeWriter();
        PtxPrelude.Emit(w, PtxHelpers.AsyncCopy | PtxHelpers.Mbarrier | PtxHelpers.Tma | PtxHelpers.Wgmma, (KernelDsl.Generator.Model.Element.BF16, TileN));
        int span = (int)swizzle;
        int mode = swizzle switch { TensorMapSwizzle.Bytes128 => 1, TensorMapSwizzle.Bytes64 => 2, TensorMapSwizzle.Bytes32 => 3, _ => 0 };
        if (mutation == Mutation.DescriptorSwizzleDiffers)
        {
            mode = mode % 3 + 1;  // 128 B -> 64 B -> 32 B -> 128 B; none -> 128 B
        }

        string body = Body
            .Replace("%SWIZZLE%", span.ToString(CultureInfo.InvariantCulture))
            .Replace("%MODE%", mode.ToString(CultureInfo.InvariantCulture))
            .Replace("%FULL_PARITY%", mutation == Mutation.ConsumerWaitsWrongParity ? "((kt / STAGES) & 1) ^ 1" : "(kt / STAGES) & 1")
            .Replace("%FENCE%", mutation == Mutation.NoFence ? "" : "wgmma_fence();")
            .Replace("%EMPTY_WAIT%", mutation == Mutation.ProducerSkipsEmptyWait ? "" : "mbarrier_wait(&empty[s], ((kt / STAGES) & 1) ^ 1);")
            .Replace("%STAGE_BYTES%", mutation == Mutation.ExpectsTooManyBytes ? "STAGE + 16" : "STAGE")
            .Replace("%EARLY_READ%", mutation == Mutation.ReadsAccumulatorsBeforeWait ? "for (int i = 0; i < TN / 2; ++i) early[i] = acc[i];" : "")
            .Replace("%RESULT%", mutation == Mutation.ReadsAccumulatorsBeforeWait ? "early" : "acc");
        return w + "\n" + body;
    }

    private const string Body = """
        constexpr int TM = 64, TN = 64, BK = 64, STAGES = 2;
        constexpr int SWIZZLE = %SWIZZLE%;                     // bytes: 0, 32, 64 or 128
        constexpr int BOX_K = SWIZZLE == 0 ? 8 : SWIZZLE / 2;  // elements of K per box row
        constexpr int BOXES = BK / BOX_K;                      // boxes per operand and stage
        constexpr int A_BOX = TM * BOX_K * 2, B_BOX = TN * BOX_K * 2;
        constexpr int STAGE = BOXES * (A_BOX + B_BOX);         // bytes per stage

        // The descriptor of the 16-deep k step at kk of an operand of `rows` rows whose boxes start at `tile`. Swizzled:
        // 8-row groups are 8 spans apart (SBO), the step starts kk % BOX_K elements into its box's rows (the hardware
        // swizzles the address it computes, as TMA did). No swizzle: core matrices of 8 rows x 16 bytes, 8-row groups
        // 128 bytes apart (SBO), the two 8-deep halves of the step in consecutive boxes (LBO).
        __device__ unsigned long long operand(const unsigned char* tile, int rows, int kk)
        {
            const int box_bytes = rows * BOX_K * 2;
            if (SWIZZLE == 0) return wgmma_descriptor(tile + (kk / 8) * box_bytes, box_bytes, 128, %MODE%);
            return wgmma_descriptor(tile + (kk / BOX_K) * box_bytes + (kk % BOX_K) * 2, 16, 8 * SWIZZLE, %MODE%);
        }

        extern "C" __global__ void __launch_bounds__(256, 1) tma_wgmma_gemm(
            const __grid_constant__ tensor_map a_map, const __grid_constant__ tensor_map b_map, float* __restrict__ C,
            int M, int N, int K, int ldc)
        {
            extern __shared__ __align__(16) unsigned char shared_bytes[];
            // Stages aligned to 1024 bytes, the 128-byte swizzle's repeat, so the pattern TMA writes is the one wgmma reads.
            unsigned char* const shared = shared_bytes + (1024 - shared_address(shared_bytes) % 1024) % 1024;
            unsigned long long* const full = reinterpret_cast<unsigned long long*>(shared + STAGES * STAGE);
            unsigned long long* const empty = full + STAGES;
            const int block_m = blockIdx.y * TM, block_n = blockIdx.x * TN;
            const int k_tiles = (K + BK - 1) / BK;
            if (threadIdx.x == 0) {
                for (int s = 0; s < STAGES; ++s) {
                    mbarrier_init(&full[s], 1);
                    mbarrier_init(&empty[s], 1);
                }
                mbarrier_init_fence();
            }
            __syncthreads();

            if (threadIdx.x < 128) {  // the producer warpgroup: thread 0 fills the stages
                setmaxnreg_dec<40>();
                if (threadIdx.x == 0) {
                    for (int kt = 0; kt < k_tiles; ++kt) {
                        const int s = kt % STAGES;
                        %EMPTY_WAIT%
                        mbarrier_arrive_expect_tx(&full[s], %STAGE_BYTES%);
                        unsigned char* const stage = shared + s * STAGE;
                        for (int b = 0; b < BOXES; ++b) {
                            tma_load_2d(stage + b * A_BOX, &a_map, kt * BK + b * BOX_K, block_m, &full[s]);
                            tma_load_2d(stage + BOXES * A_BOX + b * B_BOX, &b_map, kt * BK + b * BOX_K, block_n, &full[s]);
                        }
                    }
                }
                return;
            }

            setmaxnreg_inc<232>();  // the consumer warpgroup
            float acc[TN / 2], early[TN / 2];
            for (int i = 0; i < TN / 2; ++i) acc[i] = early[i] = 0.0f;
            for (int kt = 0; kt < k_tiles; ++kt) {
                const int s = kt % STAGES;
                mbarrier_wait(&full[s], %FULL_PARITY%);
                const unsigned char* const stage = shared + s * STAGE;
                wgmma_fence_accumulators(acc);
                %FENCE%
                for (int kk = 0; kk < BK; kk += 16) {
                    wgmma_bf16<TN>(acc, operand(stage, TM, kk), operand(stage + BOXES * A_BOX, TN, kk), 1);
                }
                wgmma_commit();
                %EARLY_READ%
                wgmma_wait<0>();
                wgmma_fence_accumulators(acc);
                if (threadIdx.x == 128) mbarrier_arrive(&empty[s]);  // the stage's operands are read: refill it
            }

            // Accumulators in CUTLASS's CLayout_64xN (include/cute/atom/mma_traits_sm90_gmma.hpp): thread t's value v is
            // row 16 (t / 32) + (t % 32) / 4 + 8 ((v / 2) % 2), column 2 (t % 4) + v % 2 + 8 (v / 4).
            const int t = threadIdx.x - 128;
            for (int v = 0; v < TN / 2; ++v) {
                const int row = block_m + 16 * (t / 32) + (t % 32) / 4 + 8 * ((v / 2) % 2);
                const int col = block_n + 2 * (t % 4) + v % 2 + 8 * (v / 4);
                if (row < M && col < N) C[(long long)row * ldc + col] = %RESULT%[v];
            }
        }
        """;
}
