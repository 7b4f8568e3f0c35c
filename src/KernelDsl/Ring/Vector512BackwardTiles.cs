using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using KernelDsl.Cpu;

namespace KernelDsl.Ring;

/// <summary>
/// The backward register tiles for 512-bit vectors (AVX-512: 32 zmm registers), 12 rows each. The unit both widths
/// share is 16 floats (d is a multiple of 16; a block's 48 keys are three 16-key runs), here one vector: 12 × 1 = 12
/// accumulators, as many FMA chains as the 256-bit tile's (enough to cover two FMA pipes' latency), each FMA doing
/// twice the work. Where 32 floats are left (the products' columns of d, the first 32 keys of a short last block) the
/// tile is 12 × 2 = 24 accumulators, 27 registers live: two vector loads and 12 broadcasts per 24 FMAs, half the
/// 12 × 1 tile's loads per FMA. The scores of a whole block take 6 rows × its 48 keys (18 accumulators, 22 registers):
/// three loads and 6 broadcasts per 18 FMAs, fewer loads per FMA than 12 × 2 followed by 12 × 1 (27 per 36). The rows
/// are read from pointers three rows apart, at offsets 0, d and 2d, so the inner loops need few address registers.
/// </summary>
internal readonly struct Vector512BackwardTiles : IBackwardTiles
{
    private const int KBlock = CpuAttentionBackward.KBlock;

    public static int TileRows => 12;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static unsafe void RowsTimesTransposed(float* rows, float* transposed, float* output, int d, int rowCount, int columnCount)
    {
        if (columnCount == KBlock)
        {
            for (int i = 0; i < rowCount; i += 6)
            {
                RowsTimesTransposedBlock(rows + i * d, transposed, output + i * KBlock, d);
            }
            return;
        }
        for (int i = 0; i < rowCount; i += 12)
        {
            int j = 0;
            for (; j + 32 <= columnCount; j += 32)
            {
                RowsTimesTransposedWide(rows + i * d, transposed + j, output + i * KBlock + j, d);
            }
            for (; j < columnCount; j += 16)
            {
                Vector512<float> a0 = default, a1 = default, a2 = default, a3 = default, a4 = default, a5 = default;
                Vector512<float> a6 = default, a7 = default, a8 = default, a9 = default, a10 = default, a11 = default;
                float* r0 = rows + i * d, r3 = r0 + 3 * d, r6 = r3 + 3 * d, r9 = r6 + 3 * d;
                float* t = transposed + j;
                for (int c = 0; c < d; c++, t += KBlock, r0++, r3++, r6++, r9++)
                {
                    var x = Vector512.Load(t);
                    a0 = Vector512.FusedMultiplyAdd(Vector512.Create(r0[0]), x, a0);
                    a1 = Vector512.FusedMultiplyAdd(Vector512.Create(r0[d]), x, a1);
                    a2 = Vector512.FusedMultiplyAdd(Vector512.Create(r0[2 * d]), x, a2);
                    a3 = Vector512.FusedMultiplyAdd(Vector512.Create(r3[0]), x, a3);
                    a4 = Vector512.FusedMultiplyAdd(Vector512.Create(r3[d]), x, a4);
                    a5 = Vector512.FusedMultiplyAdd(Vector512.Create(r3[2 * d]), x, a5);
                    a6 = Vector512.FusedMultiplyAdd(Vector512.Create(r6[0]), x, a6);
                    a7 = Vector512.FusedMultiplyAdd(Vector512.Create(r6[d]), x, a7);
                    a8 = Vector512.FusedMultiplyAdd(Vector512.Create(r6[2 * d]), x, a8);
                    a9 = Vector512.FusedMultiplyAdd(Vector512.Create(r9[0]), x, a9);
                    a10 = Vector512.FusedMultiplyAdd(Vector512.Create(r9[d]), x, a10);
                    a11 = Vector512.FusedMultiplyAdd(Vector512.Create(r9[2 * d]), x, a11);
                }
                float* o = output + i * KBlock + j;
                Vector512.Store(a0, o); Vector512.Store(a1, o + KBlock); Vector512.Store(a2, o + 2 * KBlock);
                Vector512.Store(a3, o + 3 * KBlock); Vector512.Store(a4, o + 4 * KBlock); Vector512.Store(a5, o + 5 * KBlock);
                Vector512.Store(a6, o + 6 * KBlock); Vector512.Store(a7, o + 7 * KBlock); Vector512.Store(a8, o + 8 * KBlock);
                Vector512.Store(a9, o + 9 * KBlock); Vector512.Store(a10, o + 10 * KBlock); Vector512.Store(a11, o + 11 * KBlock);
            }
        }
    }

    /// <summary>6 rows × a whole block's 48 keys: 18 accumulators, three Kᵀ loads and 6 broadcasts per 18 FMAs.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void RowsTimesTransposedBlock(float* rows, float* t, float* o, int d)
    {
        Vector512<float> a0 = default, b0 = default, c0 = default, a1 = default, b1 = default, c1 = default;
        Vector512<float> a2 = default, b2 = default, c2 = default, a3 = default, b3 = default, c3 = default;
        Vector512<float> a4 = default, b4 = default, c4 = default, a5 = default, b5 = default, c5 = default;
        float* r0 = rows, r3 = r0 + 3 * d;
        for (int c = 0; c < d; c++, t += KBlock, r0++, r3++)
        {
            var x0 = Vector512.Load(t);
            var x1 = Vector512.Load(t + 16);
            var x2 = Vector512.Load(t + 32);
            var y = Vector512.Create(r0[0]);
            a0 = Vector512.FusedMultiplyAdd(y, x0, a0); b0 = Vector512.FusedMultiplyAdd(y, x1, b0); c0 = Vector512.FusedMultiplyAdd(y, x2, c0);
            y = Vector512.Create(r0[d]);
            a1 = Vector512.FusedMultiplyAdd(y, x0, a1); b1 = Vector512.FusedMultiplyAdd(y, x1, b1); c1 = Vector512.FusedMultiplyAdd(y, x2, c1);
            y = Vector512.Create(r0[2 * d]);
            a2 = Vector512.FusedMultiplyAdd(y, x0, a2); b2 = Vector512.FusedMultiplyAdd(y, x1, b2); c2 = Vector512.FusedMultiplyAdd(y, x2, c2);
            y = Vector512.Create(r3[0]);
            a3 = Vector512.FusedMultiplyAdd(y, x0, a3); b3 = Vector512.FusedMultiplyAdd(y, x1, b3); c3 = Vector512.FusedMultiplyAdd(y, x2, c3);
            y = Vector512.Create(r3[d]);
            a4 = Vector512.FusedMultiplyAdd(y, x0, a4); b4 = Vector512.FusedMultiplyAdd(y, x1, b4); c4 = Vector512.FusedMultiplyAdd(y, x2, c4);
            y = Vector512.Create(r3[2 * d]);
            a5 = Vector512.FusedMultiplyAdd(y, x0, a5); b5 = Vector512.FusedMultiplyAdd(y, x1, b5); c5 = Vector512.FusedMultiplyAdd(y, x2, c5);
        }
        Store3(o, a0, b0, c0); Store3(o + KBlock, a1, b1, c1); Store3(o + 2 * KBlock, a2, b2, c2);
        Store3(o + 3 * KBlock, a3, b3, c3); Store3(o + 4 * KBlock, a4, b4, c4); Store3(o + 5 * KBlock, a5, b5, c5);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void Store3(float* o, Vector512<float> a, Vector512<float> b, Vector512<float> c)
    {
        Vector512.Store(a, o);
        Vector512.Store(b, o + 16);
        Vector512.Store(c, o + 32);
    }

    /// <summary>12 rows × 32 keys: 24 accumulators, two Kᵀ loads and 12 broadcasts per 24 FMAs.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void RowsTimesTransposedWide(float* rows, float* t, float* o, int d)
    {
        Vector512<float> a0 = default, b0 = default, a1 = default, b1 = default, a2 = default, b2 = default;
        Vector512<float> a3 = default, b3 = default, a4 = default, b4 = default, a5 = default, b5 = default;
        Vector512<float> a6 = default, b6 = default, a7 = default, b7 = default, a8 = default, b8 = default;
        Vector512<float> a9 = default, b9 = default, a10 = default, b10 = default, a11 = default, b11 = default;
        float* r0 = rows, r3 = r0 + 3 * d, r6 = r3 + 3 * d, r9 = r6 + 3 * d;
        for (int c = 0; c < d; c++, t += KBlock, r0++, r3++, r6++, r9++)
        {
            var x0 = Vector512.Load(t);
            var x1 = Vector512.Load(t + 16);
            var y = Vector512.Create(r0[0]);
            a0 = Vector512.FusedMultiplyAdd(y, x0, a0); b0 = Vector512.FusedMultiplyAdd(y, x1, b0);
            y = Vector512.Create(r0[d]);
            a1 = Vector512.FusedMultiplyAdd(y, x0, a1); b1 = Vector512.FusedMultiplyAdd(y, x1, b1);
            y = Vector512.Create(r0[2 * d]);
            a2 = Vector512.FusedMultiplyAdd(y, x0, a2); b2 = Vector512.FusedMultiplyAdd(y, x1, b2);
            y = Vector512.Create(r3[0]);
            a3 = Vector512.FusedMultiplyAdd(y, x0, a3); b3 = Vector512.FusedMultiplyAdd(y, x1, b3);
            y = Vector512.Create(r3[d]);
            a4 = Vector512.FusedMultiplyAdd(y, x0, a4); b4 = Vector512.FusedMultiplyAdd(y, x1, b4);
            y = Vector512.Create(r3[2 * d]);
            a5 = Vector512.FusedMultiplyAdd(y, x0, a5); b5 = Vector512.FusedMultiplyAdd(y, x1, b5);
            y = Vector512.Create(r6[0]);
            a6 = Vector512.FusedMultiplyAdd(y, x0, a6); b6 = Vector512.FusedMultiplyAdd(y, x1, b6);
            y = Vector512.Create(r6[d]);
            a7 = Vector512.FusedMultiplyAdd(y, x0, a7); b7 = Vector512.FusedMultiplyAdd(y, x1, b7);
            y = Vector512.Create(r6[2 * d]);
            a8 = Vector512.FusedMultiplyAdd(y, x0, a8); b8 = Vector512.FusedMultiplyAdd(y, x1, b8);
            y = Vector512.Create(r9[0]);
            a9 = Vector512.FusedMultiplyAdd(y, x0, a9); b9 = Vector512.FusedMultiplyAdd(y, x1, b9);
            y = Vector512.Create(r9[d]);
            a10 = Vector512.FusedMultiplyAdd(y, x0, a10); b10 = Vector512.FusedMultiplyAdd(y, x1, b10);
            y = Vector512.Create(r9[2 * d]);
            a11 = Vector512.FusedMultiplyAdd(y, x0, a11); b11 = Vector512.FusedMultiplyAdd(y, x1, b11);
        }
        Vector512.Store(a0, o); Vector512.Store(b0, o + 16); Vector512.Store(a1, o + 1 * KBlock); Vector512.Store(b1, o + 1 * KBlock + 16); Vector512.Store(a2, o + 2 * KBlock); Vector512.Store(b2, o + 2 * KBlock + 16);
        Vector512.Store(a3, o + 3 * KBlock); Vector512.Store(b3, o + 3 * KBlock + 16); Vector512.Store(a4, o + 4 * KBlock); Vector512.Store(b4, o + 4 * KBlock + 16); Vector512.Store(a5, o + 5 * KBlock); Vector512.Store(b5, o + 5 * KBlock + 16);
        Vector512.Store(a6, o + 6 * KBlock); Vector512.Store(b6, o + 6 * KBlock + 16); Vector512.Store(a7, o + 7 * KBlock); Vector512.Store(b7, o + 7 * KBlock + 16); Vector512.Store(a8, o + 8 * KBlock); Vector512.Store(b8, o + 8 * KBlock + 16);
        Vector512.Store(a9, o + 9 * KBlock); Vector512.Store(b9, o + 9 * KBlock + 16); Vector512.Store(a10, o + 10 * KBlock); Vector512.Store(b10, o + 10 * KBlock + 16); Vector512.Store(a11, o + 11 * KBlock); Vector512.Store(b11, o + 11 * KBlock + 16);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static unsafe void AddProducts(float* m, int rowStep, int innerStep, float* rows, float* output, int outputs, int inner, int d)
    {
        for (int r = 0; r < outputs; r += 12)
        {
            int c = 0;
            for (; c + 32 <= d; c += 32)
            {
                AddProductsWide(m + r * rowStep, rowStep, innerStep, rows + c, output + r * d + c, inner, d);
            }
            for (; c < d; c += 16)
            {
                float* o0 = output + r * d + c, o3 = o0 + 3 * d, o6 = o3 + 3 * d, o9 = o6 + 3 * d;
                Vector512<float> a0 = Vector512.Load(o0), a1 = Vector512.Load(o0 + d), a2 = Vector512.Load(o0 + 2 * d);
                Vector512<float> a3 = Vector512.Load(o3), a4 = Vector512.Load(o3 + d), a5 = Vector512.Load(o3 + 2 * d);
                Vector512<float> a6 = Vector512.Load(o6), a7 = Vector512.Load(o6 + d), a8 = Vector512.Load(o6 + 2 * d);
                Vector512<float> a9 = Vector512.Load(o9), a10 = Vector512.Load(o9 + d), a11 = Vector512.Load(o9 + 2 * d);
                float* mx = m + r * rowStep, row = rows + c;
                for (int x = 0; x < inner; x++, mx += innerStep, row += d)
                {
                    var y = Vector512.Load(row);
                    a0 = Vector512.FusedMultiplyAdd(Vector512.Create(mx[0]), y, a0);
                    a1 = Vector512.FusedMultiplyAdd(Vector512.Create(mx[rowStep]), y, a1);
                    a2 = Vector512.FusedMultiplyAdd(Vector512.Create(mx[2 * rowStep]), y, a2);
                    a3 = Vector512.FusedMultiplyAdd(Vector512.Create(mx[3 * rowStep]), y, a3);
                    a4 = Vector512.FusedMultiplyAdd(Vector512.Create(mx[4 * rowStep]), y, a4);
                    a5 = Vector512.FusedMultiplyAdd(Vector512.Create(mx[5 * rowStep]), y, a5);
                    a6 = Vector512.FusedMultiplyAdd(Vector512.Create(mx[6 * rowStep]), y, a6);
                    a7 = Vector512.FusedMultiplyAdd(Vector512.Create(mx[7 * rowStep]), y, a7);
                    a8 = Vector512.FusedMultiplyAdd(Vector512.Create(mx[8 * rowStep]), y, a8);
                    a9 = Vector512.FusedMultiplyAdd(Vector512.Create(mx[9 * rowStep]), y, a9);
                    a10 = Vector512.FusedMultiplyAdd(Vector512.Create(mx[10 * rowStep]), y, a10);
                    a11 = Vector512.FusedMultiplyAdd(Vector512.Create(mx[11 * rowStep]), y, a11);
                }
                Vector512.Store(a0, o0); Vector512.Store(a1, o0 + d); Vector512.Store(a2, o0 + 2 * d);
                Vector512.Store(a3, o3); Vector512.Store(a4, o3 + d); Vector512.Store(a5, o3 + 2 * d);
                Vector512.Store(a6, o6); Vector512.Store(a7, o6 + d); Vector512.Store(a8, o6 + 2 * d);
                Vector512.Store(a9, o9); Vector512.Store(a10, o9 + d); Vector512.Store(a11, o9 + 2 * d);
            }
        }
    }

    /// <summary>
    /// 12 output rows × 32 of d: 24 accumulators, with two vector loads and one broadcast per 24 FMAs (per 12 in the
    /// 16-wide tile), so the loads stay well below the FMAs.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void AddProductsWide(float* mx, int rowStep, int innerStep, float* row, float* output, int inner, int d)
    {
        float* o0 = output, o3 = o0 + 3 * d, o6 = o3 + 3 * d, o9 = o6 + 3 * d;
        Vector512<float> a0 = Vector512.Load(o0), b0 = Vector512.Load(o0 + 16), a1 = Vector512.Load(o0 + d), b1 = Vector512.Load(o0 + d + 16), a2 = Vector512.Load(o0 + 2 * d), b2 = Vector512.Load(o0 + 2 * d + 16);
        Vector512<float> a3 = Vector512.Load(o3), b3 = Vector512.Load(o3 + 16), a4 = Vector512.Load(o3 + d), b4 = Vector512.Load(o3 + d + 16), a5 = Vector512.Load(o3 + 2 * d), b5 = Vector512.Load(o3 + 2 * d + 16);
        Vector512<float> a6 = Vector512.Load(o6), b6 = Vector512.Load(o6 + 16), a7 = Vector512.Load(o6 + d), b7 = Vector512.Load(o6 + d + 16), a8 = Vector512.Load(o6 + 2 * d), b8 = Vector512.Load(o6 + 2 * d + 16);
        Vector512<float> a9 = Vector512.Load(o9), b9 = Vector512.Load(o9 + 16), a10 = Vector512.Load(o9 + d), b10 = Vector512.Load(o9 + d + 16), a11 = Vector512.Load(o9 + 2 * d), b11 = Vector512.Load(o9 + 2 * d + 16);
        for (int x = 0; x < inner; x++, mx += innerStep, row += d)
        {
            var x0 = Vector512.Load(row);
            var x1 = Vector512.Load(row + 16);
            var y = Vector512.Create(mx[0]);
            a0 = Vector512.FusedMultiplyAdd(y, x0, a0); b0 = Vector512.FusedMultiplyAdd(y, x1, b0);
            y = Vector512.Create(mx[1 * rowStep]);
            a1 = Vector512.FusedMultiplyAdd(y, x0, a1); b1 = Vector512.FusedMultiplyAdd(y, x1, b1);
            y = Vector512.Create(mx[2 * rowStep]);
            a2 = Vector512.FusedMultiplyAdd(y, x0, a2); b2 = Vector512.FusedMultiplyAdd(y, x1, b2);
            y = Vector512.Create(mx[3 * rowStep]);
            a3 = Vector512.FusedMultiplyAdd(y, x0, a3); b3 = Vector512.FusedMultiplyAdd(y, x1, b3);
            y = Vector512.Create(mx[4 * rowStep]);
            a4 = Vector512.FusedMultiplyAdd(y, x0, a4); b4 = Vector512.FusedMultiplyAdd(y, x1, b4);
            y = Vector512.Create(mx[5 * rowStep]);
            a5 = Vector512.FusedMultiplyAdd(y, x0, a5); b5 = Vector512.FusedMultiplyAdd(y, x1, b5);
            y = Vector512.Create(mx[6 * rowStep]);
            a6 = Vector512.FusedMultiplyAdd(y, x0, a6); b6 = Vector512.FusedMultiplyAdd(y, x1, b6);
            y = Vector512.Create(mx[7 * rowStep]);
            a7 = Vector512.FusedMultiplyAdd(y, x0, a7); b7 = Vector512.FusedMultiplyAdd(y, x1, b7);
            y = Vector512.Create(mx[8 * rowStep]);
            a8 = Vector512.FusedMultiplyAdd(y, x0, a8); b8 = Vector512.FusedMultiplyAdd(y, x1, b8);
            y = Vector512.Create(mx[9 * rowStep]);
            a9 = Vector512.FusedMultiplyAdd(y, x0, a9); b9 = Vector512.FusedMultiplyAdd(y, x1, b9);
            y = Vector512.Create(mx[10 * rowStep]);
            a10 = Vector512.FusedMultiplyAdd(y, x0, a10); b10 = Vector512.FusedMultiplyAdd(y, x1, b10);
            y = Vector512.Create(mx[11 * rowStep]);
            a11 = Vector512.FusedMultiplyAdd(y, x0, a11); b11 = Vector512.FusedMultiplyAdd(y, x1, b11);
        }
        Vector512.Store(a0, o0); Vector512.Store(b0, o0 + 16); Vector512.Store(a1, o0 + d); Vector512.Store(b1, o0 + d + 16); Vector512.Store(a2, o0 + 2 * d); Vector512.Store(b2, o0 + 2 * d + 16);
        Vector512.Store(a3, o3); Vector512.Store(b3, o3 + 16); Vector512.Store(a4, o3 + d); Vector512.Store(b4, o3 + d + 16); Vector512.Store(a5, o3 + 2 * d); Vector512.Store(b5, o3 + 2 * d + 16);
        Vector512.Store(a6, o6); Vector512.Store(b6, o6 + 16); Vector512.Store(a7, o6 + d); Vector512.Store(b7, o6 + d + 16); Vector512.Store(a8, o6 + 2 * d); Vector512.Store(b8, o6 + 2 * d + 16);
        Vector512.Store(a9, o9); Vector512.Store(b9, o9 + 16); Vector512.Store(a10, o9 + d); Vector512.Store(b10, o9 + d + 16); Vector512.Store(a11, o9 + 2 * d); Vector512.Store(b11, o9 + 2 * d + 16);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static unsafe void Gradients(float* p, float* ds, int columns, float scaleLog2, float lseLog2, float delta)
    {
        var scale = Vector512.Create(scaleLog2);
        var l = Vector512.Create(lseLog2);
        var d = Vector512.Create(delta);
        for (int j = 0; j < columns; j += 16)
        {
            var probability = CpuExp2.Exp2(Vector512.FusedMultiplyAdd(Vector512.Load(p + j), scale, -l));
            Vector512.Store(probability, p + j);
            Vector512.Store(probability * (Vector512.Load(ds + j) - d), ds + j);
        }
    }
}
