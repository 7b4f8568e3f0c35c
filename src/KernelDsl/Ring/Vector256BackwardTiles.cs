using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using KernelDsl.Cpu;

namespace KernelDsl.Ring;

/// <summary>
/// The backward register tiles for 256-bit vectors (AVX2: 16 ymm registers), also run where vectors are narrower:
/// 6 rows × 2 vectors = 12 accumulators, which with the two vectors loaded and one broadcast are 15 registers (a 4 × 4
/// tile needs 21 and spills in its inner loop).
/// </summary>
internal readonly struct Vector256BackwardTiles : IBackwardTiles
{
    private const int W = 8;

    private const int KBlock = CpuAttentionBackward.KBlock;

    public static int TileRows => 6;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static unsafe void RowsTimesTransposed(float* rows, float* transposed, float* output, int d, int rowCount, int columnCount)
    {
        for (int i = 0; i < rowCount; i += 6)
        {
            float* r0 = rows + i * d, r1 = r0 + d, r2 = r1 + d, r3 = r2 + d, r4 = r3 + d, r5 = r4 + d;
            for (int j = 0; j < columnCount; j += 2 * W)
            {
                Vector256<float> a0 = default, a1 = default, b0 = default, b1 = default, c0 = default, c1 = default;
                Vector256<float> e0 = default, e1 = default, f0 = default, f1 = default, g0 = default, g1 = default;
                float* t = transposed + j;
                for (int c = 0; c < d; c++, t += KBlock)
                {
                    var t0 = Vector256.Load(t);
                    var t1 = Vector256.Load(t + W);
                    var x = Vector256.Create(r0[c]);
                    a0 = Vector256.FusedMultiplyAdd(x, t0, a0); a1 = Vector256.FusedMultiplyAdd(x, t1, a1);
                    x = Vector256.Create(r1[c]);
                    b0 = Vector256.FusedMultiplyAdd(x, t0, b0); b1 = Vector256.FusedMultiplyAdd(x, t1, b1);
                    x = Vector256.Create(r2[c]);
                    c0 = Vector256.FusedMultiplyAdd(x, t0, c0); c1 = Vector256.FusedMultiplyAdd(x, t1, c1);
                    x = Vector256.Create(r3[c]);
                    e0 = Vector256.FusedMultiplyAdd(x, t0, e0); e1 = Vector256.FusedMultiplyAdd(x, t1, e1);
                    x = Vector256.Create(r4[c]);
                    f0 = Vector256.FusedMultiplyAdd(x, t0, f0); f1 = Vector256.FusedMultiplyAdd(x, t1, f1);
                    x = Vector256.Create(r5[c]);
                    g0 = Vector256.FusedMultiplyAdd(x, t0, g0); g1 = Vector256.FusedMultiplyAdd(x, t1, g1);
                }
                float* o = output + i * KBlock + j;
                Store2(o, a0, a1); Store2(o + KBlock, b0, b1); Store2(o + 2 * KBlock, c0, c1);
                Store2(o + 3 * KBlock, e0, e1); Store2(o + 4 * KBlock, f0, f1); Store2(o + 5 * KBlock, g0, g1);
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static unsafe void AddProducts(float* m, int rowStep, int innerStep, float* rows, float* output, int outputs, int inner, int d)
    {
        for (int r = 0; r < outputs; r += 6)
        {
            for (int c = 0; c < d; c += 2 * W)
            {
                float* o0 = output + r * d + c, o1 = o0 + d, o2 = o1 + d, o3 = o2 + d, o4 = o3 + d, o5 = o4 + d;
                Vector256<float> a0 = Vector256.Load(o0), a1 = Vector256.Load(o0 + W), b0 = Vector256.Load(o1), b1 = Vector256.Load(o1 + W);
                Vector256<float> c0 = Vector256.Load(o2), c1 = Vector256.Load(o2 + W), e0 = Vector256.Load(o3), e1 = Vector256.Load(o3 + W);
                Vector256<float> f0 = Vector256.Load(o4), f1 = Vector256.Load(o4 + W), g0 = Vector256.Load(o5), g1 = Vector256.Load(o5 + W);
                float* mx = m + r * rowStep, row = rows + c;
                for (int x = 0; x < inner; x++, mx += innerStep, row += d)
                {
                    var x0 = Vector256.Load(row);
                    var x1 = Vector256.Load(row + W);
                    var y = Vector256.Create(mx[0]);
                    a0 = Vector256.FusedMultiplyAdd(y, x0, a0); a1 = Vector256.FusedMultiplyAdd(y, x1, a1);
                    y = Vector256.Create(mx[rowStep]);
                    b0 = Vector256.FusedMultiplyAdd(y, x0, b0); b1 = Vector256.FusedMultiplyAdd(y, x1, b1);
                    y = Vector256.Create(mx[2 * rowStep]);
                    c0 = Vector256.FusedMultiplyAdd(y, x0, c0); c1 = Vector256.FusedMultiplyAdd(y, x1, c1);
                    y = Vector256.Create(mx[3 * rowStep]);
                    e0 = Vector256.FusedMultiplyAdd(y, x0, e0); e1 = Vector256.FusedMultiplyAdd(y, x1, e1);
                    y = Vector256.Create(mx[4 * rowStep]);
                    f0 = Vector256.FusedMultiplyAdd(y, x0, f0); f1 = Vector256.FusedMultiplyAdd(y, x1, f1);
                    y = Vector256.Create(mx[5 * rowStep]);
                    g0 = Vector256.FusedMultiplyAdd(y, x0, g0); g1 = Vector256.FusedMultiplyAdd(y, x1, g1);
                }
                Store2(o0, a0, a1); Store2(o1, b0, b1); Store2(o2, c0, c1);
                Store2(o3, e0, e1); Store2(o4, f0, f1); Store2(o5, g0, g1);
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static unsafe void Gradients(float* p, float* ds, int columns, float scaleLog2, float lseLog2, float delta)
    {
        var scale = Vector256.Create(scaleLog2);
        var l = Vector256.Create(lseLog2);
        var d = Vector256.Create(delta);
        for (int j = 0; j < columns; j += W)
        {
            var probability = CpuExp2.Exp2(Vector256.FusedMultiplyAdd(Vector256.Load(p + j), scale, -l));
            Vector256.Store(probability, p + j);
            Vector256.Store(probability * (Vector256.Load(ds + j) - d), ds + j);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void Store2(float* at, Vector256<float> x0, Vector256<float> x1)
    {
        Vector256.Store(x0, at);
        Vector256.Store(x1, at + W);
    }
}
