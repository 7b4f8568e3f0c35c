using KernelDsl.Generator.Planning;

namespace KernelDsl.Generator.Emitting.Cuda;

/// <summary>
/// fp32 elements on CUDA cores. The warp's lanes form a grid of <see cref="CudaAttentionBackwardPlan.SimtKeyLanes"/>
/// rows by <see cref="CudaAttentionBackwardPlan.SimtColumnLanes"/> columns; a lane owns keys lane_k + 4 i of the warp's
/// keys in both phases of a query tile. For Sᵀ and dPᵀ its columns are queries lane_c + 8 j (float4 dot products over
/// d); it writes Pᵀ and dSᵀ to shared memory, and after __syncwarp takes head-dim chunks lane_c + 8 c for dV += Pᵀ·dO
/// and dK += dSᵀ·Q, one query at a time. dQ = dS·K is split over the block's threads, 4 queries × one chunk each.
/// </summary>
internal sealed class AttentionBackwardSimtEmitter(CudaAttentionBackwardPlan b) : AttentionBackwardWarpEmitter
{
    public override string Units => "CUDA cores (SIMT, fp32)";

    public override void DescribeWarp(CodeWriter w)
    {
        int tq = b.TileQ / CudaAttentionBackwardPlan.SimtColumnLanes;
        w.Line($"//   A warp's 32 lanes form a {CudaAttentionBackwardPlan.SimtKeyLanes} x {CudaAttentionBackwardPlan.SimtColumnLanes} grid (lane_k, lane_c); a lane owns {b.SimtKeysPerLane} of the warp's keys (lane_k + 4 i).");
        w.Line($"//   Per query tile it computes S^T and dP^T for those keys and {tq} queries (lane_c + 8 j) as float4 dot products over d,");
        w.Line("//   P^T = exp2(S^T scale log2(e) - L log2(e)) and dS^T = P^T o (dP^T - D), and writes both to the shared Pt and dSt.");
        w.Line($"//   After __syncwarp the same lane adds, query by query, P^T dO to dV and dS^T Q to dK for its keys and {b.SimtChunksPerLane} chunk(s)");
        w.Line($"//   of 4 head dims (lane_c + 8 c{(b.Chunks % CudaAttentionBackwardPlan.SimtColumnLanes == 0 ? "" : $", those below {b.Chunks}")}). After a barrier the block's threads split the tile's dQ into items of");
        w.Line("//   4 consecutive queries x one chunk, each a sum over the block's BKV keys (float4 reads of dSt and Ks), added to");
        w.Line("//   global dQ with one fp32 atomic add per element.");
        w.Line($"//   Per lane: {2 * b.SimtKeysPerLane * b.SimtChunksPerLane * 4} dK and dV accumulators and {2 * b.SimtKeysPerLane * tq} S^T and dP^T values per tile.");
    }

    public override void Constants(CodeWriter w)
    {
        w.Line($"constexpr int KEY_LANES = {CudaAttentionBackwardPlan.SimtKeyLanes}, COL_LANES = {CudaAttentionBackwardPlan.SimtColumnLanes};  // the warp's lane grid: keys x (queries or chunks)");
        w.Line("constexpr int KR = KPW / KEY_LANES, TQ = BQ / COL_LANES, TD = (CHUNKS + COL_LANES - 1) / COL_LANES;  // a lane's keys, queries, chunks");
        w.Line("constexpr int DQ_CHUNKS = TD * COL_LANES, DQ_ITEMS = (BQ / 4) * DQ_CHUNKS;  // items of 4 queries x one chunk (whole groups of 8) of a tile's dQ");
        w.Line("static_assert(CHUNK_ELEMS == 4 && KR * KEY_LANES == KPW && TQ * COL_LANES == BQ && DS_STRIDE % 4 == 0 && DQ_ITEMS % 32 == 0, \"the lane grid tiles the warp's keys and the query tile; whole warps of dQ items; fp32 elements\");");
    }

    public override PtxHelpers PtxHelpers => PtxHelpers.None;

    public override void DeviceFunctions(CodeWriter w)
    {
        w.Lines("""
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

            """);
    }

    public override void DeclareState(CodeWriter w)
    {
        w.Lines("""
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
            """);
    }

    public override void TileMath(CodeWriter w)
    {
        w.Lines("""
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
            """);
    }

    public override void ZeroDs(CodeWriter w)
    {
        w.Lines("""
                        // No key of the warp is seen by the tile (or it has none): its dS^T rows are 0.
                        // Written by the lane grid, as the visible branch writes them.
                        #pragma unroll
                        for (int i = 0; i < KR; ++i) {
                            #pragma unroll
                            for (int j = 0; j < TQ; ++j) dSt[(warp_key0 + lane_k + KEY_LANES * i) * DS_STRIDE + lane_c + COL_LANES * j] = 0.0f;
                        }
            """);
    }

    public override void AddDq(CodeWriter w)
    {
        w.Lines("""
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
            """);
    }

    public override void AddKeyGradients(CodeWriter w)
    {
        w.Lines("""
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
            """);
    }
}
