using KernelDsl.Generator.Planning;

namespace KernelDsl.Generator.Emitting.Cuda;

/// <summary>
/// fp32 Q, K, V on CUDA cores. The warp's lanes form the plan's <see cref="SimtAttentionLanes"/> grid: a lane owns
/// rows lane_r + LANES_R·i; for S it takes keys lane_c + LANES_C·j (float4 dot products over d), for O the 16-byte
/// chunks of head dimensions lane_c + LANES_C·c. P goes from the S lanes to the O lanes through the warp's slice
/// of a shared buffer; since both phases own the same rows, each lane keeps its rows' max and sum.
/// </summary>
internal sealed class AttentionSimtEmitter(AttentionPlan plan) : AttentionWarpEmitter
{
    public override string Units => "CUDA cores (SIMT, fp32)";

    public override void DescribeWarp(CodeWriter w)
    {
        var c = plan.Cuda;
        var lanes = c.SimtLanes;
        int tr = c.RowsPerWarp / lanes.Rows, tc = lanes.KeyStep / lanes.Cols, td = c.Chunks / lanes.Cols;
        w.Line($"//   A warp's 32 lanes form a {lanes.Rows} x {lanes.Cols} grid (rows x columns){(lanes.Active < 32 ? $"; lanes from {lanes.Active} on mirror lane % {lanes.Active} and write nothing" : "")}.");
        w.Line($"//   A lane owns {tr} row(s) (lane_r + {lanes.Rows} i). A KV tile is taken {lanes.KeyStep} keys at a time (an online-softmax step):");
        w.Line($"//   for S a lane computes {tc} key(s) (lane_c + {lanes.Cols} j) of the step as float4 dot products over d, for O it accumulates");
        w.Line($"//   {td} chunk(s) of 4 head dims (lane_c + {lanes.Cols} c). The S lanes write P to the warp's rows of Ps; after __syncwarp");
        w.Line($"//   the O lanes read it back 4 keys at a time. Row max and sum are butterflies over the {lanes.Cols} lanes of a row group.");
        w.Line($"//   Per lane: {tr * td * 4} O accumulators and {tr * tc} S values per key step.");
    }

    public override void Constants(CodeWriter w)
    {
        var lanes = plan.Cuda.SimtLanes;
        w.Line($"constexpr int LANES_R = {lanes.Rows}, LANES_C = {lanes.Cols}, ACTIVE = LANES_R * LANES_C;  // the warp's lane grid");
        w.Line($"constexpr int KS = {lanes.KeyStep};  // keys per softmax step inside a KV tile");
        w.Line("constexpr int TR = RW / LANES_R, TC = KS / LANES_C, TD = CHUNKS / LANES_C;  // a lane's rows, keys per step, 4-dim chunks");
        w.Line($"constexpr int P_STRIDE = {plan.Cuda.PStride};  // floats between rows of Ps");
        w.Line("static_assert(CHUNK_ELEMS == 4 && TR * LANES_R == RW && TC * LANES_C == KS && BKV % KS == 0 && KS % 4 == 0 && TD * LANES_C == CHUNKS, \"the lane grid tiles the warp\");");
    }

    public override PtxHelpers PtxHelpers => PtxHelpers.None;

    public override void DeviceFunctions(CodeWriter w)
    {
    }

    public override void DeclareState(CodeWriter w)
    {
        w.Lines("""
                // This lane's place in the grid, and its rows' O accumulators (row lane_r + LANES_R i, dims 4 (lane_c + LANES_C c) + 0..3),
                // running max (base 2, scaled) and sum.
                const int grid_lane = lane % ACTIVE, lane_r = grid_lane / LANES_C, lane_c = grid_lane % LANES_C;
                const bool writer = lane < ACTIVE;
                float* const Ps = reinterpret_cast<float*>(shared_bytes + TILE_BYTES) + warp * RW * P_STRIDE;
                float o[TR][TD][4] = {};
                float row_max[TR], row_sum[TR];
                #pragma unroll
                for (int i = 0; i < TR; ++i) {
                    row_max[i] = minus_infinity();
                    row_sum[i] = 0.0f;
                }
            """);
    }

    public override void AttendTile(CodeWriter w)
    {
        w.Lines("""
                        for (int ks = 0; ks < BKV; ks += KS) {
                            // S = Q K^T for the lane's TR rows x TC keys of this key step, float4 by float4 along d.
                            float s[TR][TC] = {};
                            for (int c = 0; c < CHUNKS; ++c) {
                                float4 qv[TR];
                                #pragma unroll
                                for (int i = 0; i < TR; ++i) qv[i] = *reinterpret_cast<const float4*>(Qs + tile_offset(warp_row0 + lane_r + LANES_R * i, c));
                                #pragma unroll
                                for (int j = 0; j < TC; ++j) {
                                    const float4 kv = *reinterpret_cast<const float4*>(Ks + tile_offset(ks + lane_c + LANES_C * j, c));
                                    #pragma unroll
                                    for (int i = 0; i < TR; ++i) {
                                        s[i][j] = fmaf(qv[i].x, kv.x, s[i][j]);
                                        s[i][j] = fmaf(qv[i].y, kv.y, s[i][j]);
                                        s[i][j] = fmaf(qv[i].z, kv.z, s[i][j]);
                                        s[i][j] = fmaf(qv[i].w, kv.w, s[i][j]);
                                    }
                                }
                            }

                            // Scale into base 2; mask keys past skv and, causally, keys after the row's position.
                            #pragma unroll
                            for (int j = 0; j < TC; ++j) {
                                const int key = kv0 + ks + lane_c + LANES_C * j;
                                const int key_pos = key < skv ? kv_position(key) : 0;
                                #pragma unroll
                                for (int i = 0; i < TR; ++i) {
                                    s[i][j] *= SCALE_LOG2;
                                    if (masked && !(key < skv && (!CAUSAL || key_pos <= q_position(q0 + warp_row0 + lane_r + LANES_R * i)))) s[i][j] = minus_infinity();
                                }
                            }

                            // Online softmax per row: max over the row group, rescale O and the sum, P = exp2(S - max) into Ps.
                            #pragma unroll
                            for (int i = 0; i < TR; ++i) {
                                float step_max = minus_infinity();
                                #pragma unroll
                                for (int j = 0; j < TC; ++j) step_max = fmaxf(step_max, s[i][j]);
                                #pragma unroll
                                for (int offset = LANES_C / 2; offset > 0; offset /= 2) step_max = fmaxf(step_max, __shfl_xor_sync(FULL_MASK, step_max, offset));
                                const float new_max = fmaxf(row_max[i], step_max);
                                const float base = new_max == minus_infinity() ? 0.0f : new_max;  // no key seen yet: exp2(-inf) = 0, not NaN
                                const float rescale = ex2_approx(row_max[i] - base);
                                row_max[i] = new_max;
                                row_sum[i] *= rescale;
                                #pragma unroll
                                for (int c = 0; c < TD; ++c) {
                                    #pragma unroll
                                    for (int x = 0; x < 4; ++x) o[i][c][x] *= rescale;
                                }
                                float* const p_row = Ps + (lane_r + LANES_R * i) * P_STRIDE + ks;
                                #pragma unroll
                                for (int j = 0; j < TC; ++j) {
                                    const float p = ex2_approx(s[i][j] - base);
                                    row_sum[i] += p;
                                    if (writer) p_row[lane_c + LANES_C * j] = p;
                                }
                            }
                            __syncwarp();  // the warp's P for this key step is complete (each step writes its own columns)

                            // O += P V over the key step, 4 keys at a time.
                            for (int k = ks; k < ks + KS; k += 4) {
                                float4 pv[TR];
                                #pragma unroll
                                for (int i = 0; i < TR; ++i) pv[i] = *reinterpret_cast<const float4*>(Ps + (lane_r + LANES_R * i) * P_STRIDE + k);
                                #pragma unroll
                                for (int x = 0; x < 4; ++x) {
                                    #pragma unroll
                                    for (int c = 0; c < TD; ++c) {
                                        const float4 v = *reinterpret_cast<const float4*>(Vs + tile_offset(k + x, lane_c + LANES_C * c));
                                        #pragma unroll
                                        for (int i = 0; i < TR; ++i) {
                                            const float p = x == 0 ? pv[i].x : x == 1 ? pv[i].y : x == 2 ? pv[i].z : pv[i].w;
                                            o[i][c][0] = fmaf(p, v.x, o[i][c][0]);
                                            o[i][c][1] = fmaf(p, v.y, o[i][c][1]);
                                            o[i][c][2] = fmaf(p, v.z, o[i][c][2]);
                                            o[i][c][3] = fmaf(p, v.w, o[i][c][3]);
                                        }
                                    }
                                }
                            }
                        }
            """);
    }

    public override void Merge(CodeWriter w)
    {
        w.Lines("""
                // The step's partial per row: sum over the row group, o = O / l, lse = m ln 2 + ln l. Every lane of a row group
                // reads the row's running L before any of them writes it.
                float run_lse[TR];
                #pragma unroll
                for (int i = 0; i < TR; ++i) {
                    #pragma unroll
                    for (int offset = LANES_C / 2; offset > 0; offset /= 2) row_sum[i] += __shfl_xor_sync(FULL_MASK, row_sum[i], offset);
                    const int row = q0 + warp_row0 + lane_r + LANES_R * i;
                    run_lse[i] = row < sq ? L_run[(long long)head * sq + row] : minus_infinity();
                }
                __syncwarp();
                #pragma unroll
                for (int i = 0; i < TR; ++i) {
                    const int row = q0 + warp_row0 + lane_r + LANES_R * i;
                    if (!writer || row >= sq || row_sum[i] == 0.0f) continue;  // a mirror lane, outside sq, or no key seen
                    float keep, take;
                    const float lse = merge_lse(run_lse[i], row_max[i] * LN2 + logf(row_sum[i]), keep, take);
                    const float scale = take / row_sum[i];  // the step's o = O / l, weighted
                    const bool fresh = run_lse[i] == minus_infinity();
                    float* const o_row = O_run + ((long long)head * sq + row) * D;
                    #pragma unroll
                    for (int c = 0; c < TD; ++c) {
                        float4* const at = reinterpret_cast<float4*>(o_row + 4 * (lane_c + LANES_C * c));
                        float4 running = {0.0f, 0.0f, 0.0f, 0.0f};
                        if (!fresh) running = *at;
                        float4 merged;
                        merged.x = fmaf(keep, running.x, scale * o[i][c][0]);
                        merged.y = fmaf(keep, running.y, scale * o[i][c][1]);
                        merged.z = fmaf(keep, running.z, scale * o[i][c][2]);
                        merged.w = fmaf(keep, running.w, scale * o[i][c][3]);
                        *at = merged;
                    }
                    if (lane_c == 0) L_run[(long long)head * sq + row] = lse;
                }
            """);
    }
}
