using System;
using System.Threading.Tasks;

namespace KernelDsl.Benchmarks;

/// <summary>
/// The straightforward attention a .NET user would write with a BLAS at hand, per head: S = scale·Q·Kᵀ with
/// <c>cblas_sgemm</c>, −∞ above the diagonal when causal, a row softmax (max, exp, sum, divide; rows split over
/// the cores), O = P·V with <c>cblas_sgemm</c>. It materialises the S×S scores (64 MiB at 4k tokens) and, causal,
/// computes the masked half anyway: the two costs a fused kernel avoids.
/// </summary>
public sealed unsafe class NaiveAttention(AttentionShape shape)
{
    private readonly float[] _scores = new float[shape.SequenceLength * shape.SequenceLength];

    /// <summary>O = softmax(scale·Q·Kᵀ [+ mask])·V for every head; Q, K, V and O are [heads, S, d] row-major.</summary>
    public void Run(float[] q, float[] k, float[] v, float[] o)
    {
        int s = shape.SequenceLength, d = shape.HeadDim;
        fixed (float* scores = _scores, queries = q, keys = k, values = v, output = o)
        {
            for (int head = 0; head < shape.Heads; head++)
            {
                long offset = (long)head * s * d;
                OpenBlasNative.Sgemm(OpenBlasNative.RowMajor, OpenBlasNative.NoTrans, OpenBlasNative.Trans,
                    s, s, d, shape.Scale, queries + offset, d, keys + offset, d, 0f, scores, s);
                Softmax();
                OpenBlasNative.Sgemm(OpenBlasNative.RowMajor, OpenBlasNative.NoTrans, OpenBlasNative.NoTrans,
                    s, d, s, 1f, scores, s, values + offset, d, 0f, output + offset, d);
            }
        }
    }

    private void Softmax() => Parallel.For(0, shape.SequenceLength, i =>
    {
        var row = _scores.AsSpan(i * shape.SequenceLength, shape.SequenceLength);
        int visible = shape.Causal ? i + 1 : row.Length;
        float max = float.NegativeInfinity;
        for (int j = 0; j < visible; j++)
        {
            max = MathF.Max(max, row[j]);
        }
        float sum = 0;
        for (int j = 0; j < visible; j++)
        {
            row[j] = MathF.Exp(row[j] - max);
            sum += row[j];
        }
        float inverse = 1 / sum;
        for (int j = 0; j < visible; j++)
        {
            row[j] *= inverse;
        }
        row[visible..].Clear();
    });
}
