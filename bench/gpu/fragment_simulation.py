# Copy of the lead's fragment simulation (checked by the lead; see docs/GPU_NOTES.md, "Verified without a GPU").
# Pure Python, no GPU: python3 bench/gpu/fragment_simulation.py  (about 2 s; prints one OK line per layout and the
# worst ldmatrix bank-conflict degree per tile shape, 1-way = conflict-free). It mirrors GemmPlanner.MmaOperand and the
# emitted a_fragment/b_fragment addressing; keep it in step with generator/KernelDsl.Generator/Planning and Emitting/Cuda.
# Simulates the generated tensor-core kernel's shared layout + ldmatrix(.trans) + mma.m16n8k16 fragment
# semantics (PTX ISA) for all four A/B layouts, and checks the warp computes op(A)·op(B) exactly.
import random
def swz_offset(row, chunk, chunks, span, group):      # emitted: (row*CHUNKS + (chunk ^ ((row/GROUP) % SPAN))) * 8
    return (row*chunks + (chunk ^ ((row//group) % span)))*8
def plan_operand(kcontig, extent, tileK):              # GemmPlanner.MmaOperand
    rows = extent if kcontig else tileK
    chunks = (tileK if kcontig else extent)//8
    span = 1
    while span < 8 and chunks % (span*2) == 0: span *= 2
    return rows, chunks, span, (1 if chunks >= 8 else 8//chunks)
def store(op, kcontig, get, extent, tileK):            # copy: K-contig rows = mn, chunk along k; else rows = k
    rows, chunks, span, group = plan_operand(kcontig, extent, tileK)
    sm = [None]*(rows*chunks*8)
    for row in range(rows):
        for chunk in range(chunks):
            for e in range(8):
                mn, k = (row, chunk*8+e) if kcontig else (chunk*8+e, row)
                sm[swz_offset(row, chunk, chunks, span, group)+e] = get(mn, k)
    return sm, (chunks, span, group)
def fragment_address(op, kcontig, mn, k, lane, geo):   # emitted a_fragment / b_fragment
    q, r = lane//8, lane%8
    mnh, kh = (q%2, q//2) if op == 'A' else (q//2, q%2)
    row, chunk = ((mn + mnh*8 + r, (k + kh*8)//8) if kcontig else (k + kh*8 + r, (mn + mnh*8)//8))
    return swz_offset(row, chunk, *geo)
def ldmatrix_x4(sm, addr_of_lane, trans):
    regs = [[None]*4 for _ in range(32)]
    for i in range(4):
        rows = [sm[addr_of_lane(i*8+rr): addr_of_lane(i*8+rr)+8] for rr in range(8)]   # matrix i, row rr
        for t in range(32):
            if not trans: regs[t][i] = (rows[t//4][2*(t%4)], rows[t//4][2*(t%4)+1])
            else:         regs[t][i] = (rows[2*(t%4)][t//4], rows[2*(t%4)+1][t//4])
    return regs
def check(transA, transB, BM=64, BN=64, BK=32, WTM=32, WTN=32):
    Aop = [[random.randint(-3,3) for k in range(BK)] for m in range(BM)]   # op(A): m x k
    Bop = [[random.randint(-3,3) for n in range(BN)] for k in range(BK)]   # op(B): k x n
    smA, geoA = store('A', not transA, lambda m,k: Aop[m][k], BM, BK)
    smB, geoB = store('B', transB, lambda n,k: Bop[k][n], BN, BK)
    for wm in range(BM//WTM):
        for wn in range(BN//WTN):
            MI, NI = WTM//16, WTN//8
            acc = [[[[0]*4 for _ in range(NI)] for _ in range(MI)] for _ in range(32)]
            for kk in range(0, BK, 16):
                a = [ldmatrix_x4(smA, lambda l: fragment_address('A', not transA, wm*WTM+i*16, kk, l, geoA), transA) for i in range(MI)]
                b = [None]*NI
                for j in range(0, NI, 2):
                    pair = ldmatrix_x4(smB, lambda l: fragment_address('B', transB, wn*WTN+j*8, kk, l, geoB), not transB)
                    b[j] = [[pair[t][0], pair[t][1]] for t in range(32)]; b[j+1] = [[pair[t][2], pair[t][3]] for t in range(32)]
                for i in range(MI):
                    for j in range(NI):
                        # mma.m16n8k16 row.col: rebuild A (16x16), B (16x8) from the fragments as PTX defines them
                        Af = [[None]*16 for _ in range(16)]; Bf = [[None]*8 for _ in range(16)]
                        for t in range(32):
                            g, tt = t//4, t%4
                            for reg,(r0,c0) in enumerate([(g,2*tt),(g+8,2*tt),(g,2*tt+8),(g+8,2*tt+8)]):
                                Af[r0][c0], Af[r0][c0+1] = a[i][t][reg]
                            for reg,k0 in enumerate([2*tt, 2*tt+8]):
                                Bf[k0][g], Bf[k0+1][g] = b[j][t][reg]
                        for t in range(32):
                            g, tt = t//4, t%4
                            for idx,(r0,c0) in enumerate([(g,2*tt),(g,2*tt+1),(g+8,2*tt),(g+8,2*tt+1)]):
                                acc[t][i][j][idx] += sum(Af[r0][kx]*Bf[kx][c0] for kx in range(16))
            for t in range(32):   # epilogue mapping: row g + 8h, col 2t + e
                for i in range(MI):
                    for j in range(NI):
                        for h in range(2):
                            for e in range(2):
                                m = wm*WTM + i*16 + t//4 + h*8; n = wn*WTN + j*8 + (t%4)*2 + e
                                want = sum(Aop[m][k]*Bop[k][n] for k in range(BK))
                                assert acc[t][i][j][2*h+e] == want, (transA, transB, m, n)
    return True
random.seed(1)
for tA in (False, True):
    for tB in (False, True):
        for (BM,BN,BK,WTM,WTN) in [(64,64,32,32,32),(32,64,16,16,32),(128,32,64,64,16)]:
            check(tA, tB, BM, BN, BK, WTM, WTN)
        print("layout transA=%s transB=%s: fragments, swizzle and epilogue mapping OK" % (tA, tB))
# Bank conflicts: each 8-lane phase of ldmatrix reads 8 rows of 16 bytes; conflict-free iff the 8 chunks
# fall in 8 distinct 16-byte bank groups ((byte address / 16) % 8).
def conflicts(op, kcontig, extent, tileK, WT):
    rows, chunks, span, group = plan_operand(kcontig, extent, tileK)
    worst = 1
    for mn in range(0, extent, 16 if op == 'A' else 16):
        for k in range(0, tileK, 16):
            for phase in range(4):
                groups = [(fragment_address(op, kcontig, mn, k, phase*8+r, (chunks, span, group))*2//16) % 8 for r in range(8)]
                worst = max(worst, max(groups.count(x) for x in set(groups)))
    return worst
for tileK in (16, 32, 64):
    for extent in (64, 128, 256):
        for kc in (True, False):
            w = conflicts('A', kc, extent, tileK, 16)
            print(f"tileK={tileK} extent={extent} K-contiguous={kc}: worst {w}-way")
