using KernelDsl.Generator.Model;
using KernelDsl.Generator.Planning;

namespace KernelDsl.Generator.Emitting.Cuda;

/// <summary>
/// 16-bit Q, K, V on tensor cores: S = Q·Kᵀ and O += P·V as mma.sync m16n8k16 with fp32 accumulators; Q and K
/// fragments by ldmatrix, V fragments by ldmatrix.trans, and P straight from S's accumulators in registers.
/// Every index formula comes from <see cref="AttentionFragments"/>.
/// </summary>
internal sealed class AttentionMmaEmitter(AttentionPlan plan) : AttentionWarpEmitter
{
    public override string Units => "tensor cores (mma.sync m16n8k16, fp32 accumulate)";

    public override void DescribeWarp(CodeWriter w)
    {
        var c = plan.Cuda;
        int mi = c.RowsPerWarp / 16, ns = c.KeyStep / 8, no = plan.HeadDim / 8;
        w.Line($"//   A warp's {c.RowsPerWarp} rows are {mi} MMA row tile(s) of 16. A KV tile is taken {c.KeyStep} keys at a time (an online-softmax");
        w.Line($"//   step). S = Q K^T of a step is {mi} x {ns} tiles of 16 x 8 (keys), built over d in");
        w.Line("//   steps of 16: Q fragments by ldmatrix (d contiguous: K-major A), K fragments by ldmatrix without .trans (K rows");
        w.Line($"//   are keys with d contiguous: K^T is the column-major B). O is {mi} x {no} tiles of 16 x 8 (head dims). A lane holds 4");
        w.Line("//   fp32 accumulators per tile: rows g and g + 8, columns 2t and 2t + 1 (g = lane / 4, t = lane % 4), so a row's");
        w.Line("//   max and sum are reduced over the 4 lanes of a quad (shuffles by 1 and 2).");
        w.Line("//   O += P V: the accumulators of S n-tiles 2kk and 2kk + 1, rounded to 16 bits, are exactly the A fragment of");
        w.Line("//   P's k-tile kk (FlashAttention-2's register repacking, no trip through shared memory); V rows are keys with d");
        w.Line("//   contiguous, so its B fragments come from ldmatrix.trans.");
        w.Line($"//   Per lane: {mi * no * 4} O + {mi * ns * 4} S accumulators; Q fragments are reloaded from shared memory per step.");
    }

    public override void Constants(CodeWriter w)
    {
        w.Line("constexpr int MI = RW / 16;  // 16-row MMA tiles per warp");
        w.Line($"constexpr int KS = {plan.Cuda.KeyStep};  // keys per online-softmax step inside a KV tile");
        w.Line("constexpr int NS = KS / 8, NO = D / 8;  // 8-wide MMA n-tiles of S (keys of a step) and of O (head dims)");
        w.Line($"constexpr int VO = {plan.Cuda.VFragmentsInFlight};  // V ldmatrix.x4.trans (two O n-tiles each) issued together");
        w.Line("static_assert(RW % 16 == 0 && CHUNK_ELEMS == 8 && KS % 16 == 0 && BKV % KS == 0 && NO % (2 * VO) == 0, \"whole MMA row tiles, key steps and V groups; 16-bit elements\");");
    }

    public override PtxHelpers PtxHelpers => PtxPrelude.TensorCores(plan.Element);

    public override void DeviceFunctions(CodeWriter w)
    {
        w.Lines($$"""
            // Row and column, within its 16 x 8 MMA tile, of accumulator element e (0..3) of this lane.
            __device__ __forceinline__ int acc_row(int e) { const int lane = threadIdx.x % 32; return {{AttentionFragments.AccumulatorRow}}; }
            __device__ __forceinline__ int acc_col(int e) { const int lane = threadIdx.x % 32; return {{AttentionFragments.AccumulatorCol}}; }

            // Lane's ldmatrix.x4 address for the 16 x 16 block of Qs at (row0, k0): lane l names row l % 8 of matrix l / 8;
            // matrices (rows, k) = (0-7, 0-7), (8-15, 0-7), (0-7, 8-15), (8-15, 8-15) give a0..a3.
            __device__ __forceinline__ int q_fragment(int row0, int k0)
            {
                const int lane = threadIdx.x % 32, q = lane / 8, r = lane % 8;
                return tile_offset({{AttentionFragments.QRow}}, {{AttentionFragments.QChunk}});
            }

            // Lane's ldmatrix.x4 address for keys key0..key0+15, dims k0..k0+15 of Ks (K^T as B, no transpose):
            // matrices (keys, k) = (0-7, 0-7), (0-7, 8-15), (8-15, 0-7), (8-15, 8-15) give b0, b1 of n-tile key0 / 8, then of the next.
            __device__ __forceinline__ int k_fragment(int key0, int k0)
            {
                const int lane = threadIdx.x % 32, q = lane / 8, r = lane % 8;
                return tile_offset({{AttentionFragments.KRow}}, {{AttentionFragments.KChunk}});
            }

            // Lane's ldmatrix.x4.trans address for keys key0..key0+15, dims dim0..dim0+15 of Vs (V as B, keys are its k):
            // matrices (keys, dims) = (0-7, 0-7), (8-15, 0-7), (0-7, 8-15), (8-15, 8-15) give b0, b1 of n-tile dim0 / 8, then of the next.
            __device__ __forceinline__ int v_fragment(int key0, int dim0)
            {
                const int lane = threadIdx.x % 32, q = lane / 8, r = lane % 8;
                return tile_offset({{AttentionFragments.VRow}}, {{AttentionFragments.VChunk}});
            }
            """);
        w.Line();
    }

    public override void DeclareState(CodeWriter w)
    {
        w.Lines("""
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
            """);
    }

    public override void AttendTile(CodeWriter w)
    {
        string mma = PtxPrelude.MmaName(plan.Element);
        w.Lines($$"""
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
                                        {{mma}}(s[i][j], a[i], b_lo);
                                        {{mma}}(s[i][j + 1], a[i], b_hi);
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
            {{PackLines()}}
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
                                            {{mma}}(o[i][n0 + 2 * g], a[i], b_lo);
                                            {{mma}}(o[i][n0 + 2 * g + 1], a[i], b_hi);
                                        }
                                    }
                                }
                            }
                        }
            """);
    }

    /// <summary>The four pack lines of P's A fragment, from <see cref="AttentionFragments.PackSource"/>.</summary>
    private string PackLines()
    {
        var lines = new string[4];
        for (int register = 0; register < 4; register++)
        {
            var (tile, element) = AttentionFragments.PackSource(register);
            lines[register] = $"                        a[i][{register}] = {PtxPrelude.PackName(plan.Element)}(s[i][2 * kk + {tile}][{element}], s[i][2 * kk + {tile}][{element + 1}]);";
        }
        return string.Join("\n", lines);
    }

    public override void Merge(CodeWriter w)
    {
        w.Lines("""
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
            """);
    }
}
