using KernelDsl.Generator.Planning;

namespace KernelDsl.Generator.Emitting.Cuda;

/// <summary>
/// 16-bit elements on tensor cores: a warp owns 16 keys, one MMA row tile of dK and dV. Sᵀ = K·Qᵀ and dPᵀ = V·dOᵀ take
/// K and V as A fragments; Pᵀ and dSᵀ go from their accumulators straight into the A fragments of dV += Pᵀ·dO and
/// dK += dSᵀ·Q (the forward's P repacking); dS for dQ = dS·K comes back through shared memory by ldmatrix.trans.
/// Every index formula comes from <see cref="AttentionFragments"/>.
/// </summary>
internal sealed class AttentionBackwardMmaEmitter(AttentionPlan plan) : AttentionBackwardWarpEmitter
{
    private readonly string mma = PtxPrelude.MmaName(plan.Element), pack = PtxPrelude.PackName(plan.Element);

    public override string Units => "tensor cores (mma.sync m16n8k16, fp32 accumulate)";

    public override void DescribeWarp(CodeWriter w)
    {
        w.Line("//   Per query tile a warp computes S^T = K Q^T and dP^T = V dO^T for its 16 keys (16 x BQ: K and V as A from ldmatrix,");
        w.Line("//   Q and dO as B from ldmatrix without .trans), P^T = exp2(S^T scale log2(e) - L log2(e)) and dS^T = P^T o (dP^T - D)");
        w.Line("//   in the accumulators, then dV += P^T dO and dK += dS^T Q with P^T and dS^T repacked in registers as A fragments");
        w.Line("//   (the forward's P repacking) and dO, Q as B from ldmatrix.trans. dQ needs dS with queries as rows: each warp stores");
        w.Line("//   its dS^T rows in 16 bits to shared memory, and after a barrier the warps split the tile's dQ into 16 x 16 blocks,");
        w.Line("//   each a sum over the block's BKV keys (dS as A by ldmatrix.trans, K as B by ldmatrix.trans), added to global dQ");
        w.Line("//   with one fp32 atomic add per element.");
    }

    public override void Constants(CodeWriter w)
    {
        w.Line("constexpr int NQ = BQ / 8, NO = D / 8;  // 8-wide MMA n-tiles of S^T (queries) and of dK, dV (head dims)");
        w.Line("constexpr int DQ_BLOCKS = (BQ / 16) * (D / 16);  // 16 x 16 blocks of a tile's dQ, split over the warps");
        w.Line("static_assert(KPW == 16 && CHUNK_ELEMS == 8 && BQ % 16 == 0 && D % 16 == 0, \"one MMA row tile of keys per warp; 16-bit elements; whole 16-query and 16-dim steps\");");
    }

    public override PtxHelpers PtxHelpers => PtxPrelude.TensorCores(plan.Element);

    public override void DeviceFunctions(CodeWriter w)
    {
        new AttentionMmaEmitter(plan).DeviceFunctions(w);
        w.Lines($$"""
            // Lane's ldmatrix.x4.trans address for dS as the A operand (queries m0..m0+15 x keys k0..k0+15) from dSt, which
            // holds dS^T: rows are keys, queries contiguous, DS_STRIDE elements apart.
            __device__ __forceinline__ int ds_fragment(int m0, int k0)
            {
                const int lane = threadIdx.x % 32, q = lane / 8, r = lane % 8;
                return ({{AttentionFragments.DsRow}}) * DS_STRIDE + {{AttentionFragments.DsCol}};
            }

            """);
    }

    public override void DeclareState(CodeWriter w)
    {
        w.Lines($$"""
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
            """);
    }

    public override void TileMath(CodeWriter w)
    {
        w.Lines($$"""
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
                                {{mma}}(st[j], a, b_lo);
                                {{mma}}(st[j + 1], a, b_hi);
                            }
                            ldmatrix_x4(a, Vs + q_fragment(warp_key0, kk));
                            #pragma unroll
                            for (int j = 0; j < NQ; j += 2) ldmatrix_x4(b[j / 2], dOs + k_fragment(8 * j, kk));
                            #pragma unroll
                            for (int j = 0; j < NQ; j += 2) {
                                const unsigned b_lo[2] = {b[j / 2][0], b[j / 2][1]}, b_hi[2] = {b[j / 2][2], b[j / 2][3]};
                                {{mma}}(dpt[j], a, b_lo);
                                {{mma}}(dpt[j + 1], a, b_hi);
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
            {{PackLines(pack)}}
                            #pragma unroll
                            for (int n = 0; n < NO; n += 2) {
                                unsigned bo[4], bq[4];
                                ldmatrix_x4_trans(bo, dOs + v_fragment(16 * kq, 8 * n));
                                ldmatrix_x4_trans(bq, Qs + v_fragment(16 * kq, 8 * n));
                                const unsigned bo_lo[2] = {bo[0], bo[1]}, bo_hi[2] = {bo[2], bo[3]};
                                const unsigned bq_lo[2] = {bq[0], bq[1]}, bq_hi[2] = {bq[2], bq[3]};
                                {{mma}}(dv[n], pa, bo_lo);
                                {{mma}}(dv[n + 1], pa, bo_hi);
                                {{mma}}(dk[n], sa, bq_lo);
                                {{mma}}(dk[n + 1], sa, bq_hi);
                            }
                        }

                        // dS^T rows of the warp's keys to dSt in 16 bits, for dQ.
                        #pragma unroll
                        for (int j = 0; j < NQ; ++j) {
                            #pragma unroll
                            for (int h = 0; h < 2; ++h) {
                                *reinterpret_cast<unsigned*>(dSt + (warp_key0 + acc_row(2 * h)) * DS_STRIDE + 8 * j + acc_col(2 * h)) =
                                    {{pack}}(dpt[j][2 * h], dpt[j][2 * h + 1]);
                            }
                        }
            """);
    }

    public override void ZeroDs(CodeWriter w)
    {
        w.Lines($$"""
                        // No key of the warp is seen by the tile (or it has none): its dS^T rows are 0.
                        #pragma unroll
                        for (int j = 0; j < NQ; ++j) {
                            #pragma unroll
                            for (int h = 0; h < 2; ++h) {
                                *reinterpret_cast<unsigned*>(dSt + (warp_key0 + acc_row(2 * h)) * DS_STRIDE + 8 * j + acc_col(2 * h)) = 0u;
                            }
                        }
            """);
    }

    public override void AddDq(CodeWriter w)
    {
        w.Lines($$"""
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
                            {{mma}}(acc[0], a, bk_lo);
                            {{mma}}(acc[1], a, bk_hi);
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
            """);
    }

    public override void AddKeyGradients(CodeWriter w)
    {
        w.Lines($$"""
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
            """);
    }

    /// <summary>The pack lines of P^T's and dS^T's A fragments for query k-tile kq, from <see cref="AttentionFragments.PackSource"/>.</summary>
    private static string PackLines(string pack)
    {
        var lines = new string[8];
        for (int register = 0; register < 4; register++)
        {
            var (tile, element) = AttentionFragments.PackSource(register);
            lines[register] = $"                pa[{register}] = {pack}(st[2 * kq + {tile}][{element}], st[2 * kq + {tile}][{element + 1}]);";
            lines[4 + register] = $"                sa[{register}] = {pack}(dpt[2 * kq + {tile}][{element}], dpt[2 * kq + {tile}][{element + 1}]);";
        }
        return string.Join("\n", lines);
    }
}
