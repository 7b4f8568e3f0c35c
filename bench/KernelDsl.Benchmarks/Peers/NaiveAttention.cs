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
    private float[]? _gradients, _output;

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

    /// <summary>
    /// The gradients the same way, per head: P recomputed as in <see cref="Run"/> (O = P·V too), then dV = Pᵀ·dO,
    /// dP = dO·Vᵀ, dS = P ∘ (dP − rowsum(dO ∘ O)), dQ = scale·dS·K, dK = scale·dSᵀ·Q, six <c>cblas_sgemm</c> over S×S.
    /// </summary>
    public void Backward(float[] q, float[] k, float[] v, float[] dO, float[] dQ, float[] dK, float[] dV)
    {
        int s = shape.SequenceLength, d = shape.HeadDim;
        _gradients ??= new float[s * s];
        _output ??= new float[s * d];
        fixed (float* scores = _scores, dp = _gradients, o = _output, queries = q, keys = k, values = v, up = dO, gq = dQ, gk = dK, gv = dV)
        {
            for (int head = 0; head < shape.Heads; head++)
            {
                long offset = (long)head * s * d;
                OpenBlasNative.Sgemm(OpenBlasNative.RowMajor, OpenBlasNative.NoTrans, OpenBlasNative.Trans,
                    s, s, d, shape.Scale, queries + offset, d, keys + offset, d, 0f, scores, s);
                Softmax();
                OpenBlasNative.Sgemm(OpenBlasNative.RowMajor, OpenBlasNative.NoTrans, OpenBlasNative.NoTrans,
                    s, d, s, 1f, scores, s, values + offset, d, 0f, o, d);
                OpenBlasNative.Sgemm(OpenBlasNative.RowMajor, OpenBlasNative.Trans, OpenBlasNative.NoTrans,
                    s, d, s, 1f, scores, s, up + offset, d, 0f, gv + offset, d);
                OpenBlasNative.Sgemm(OpenBlasNative.RowMajor, OpenBlasNative.NoTrans, OpenBlasNative.Trans,
                    s, s, d, 1f, up + offset, d, values + offset, d, 0f, dp, s);
                float* upHead = up + offset;
                float* oHead = o;
                float* pScores = scores;
                float* pGradients = dp;
                Parallel.For(0, s, i =>
                {
                    float delta = 0;
                    for (int c = 0; c < d; c++)
                    {
                        delta += upHead[i * d + c] * oHead[i * d + c];
                    }
                    for (int j = 0; j < s; j++)
                    {
                        pGradients[i * s + j] = pScores[i * s + j] * (pGradients[i * s + j] - delta);
                    }
                });
                OpenBlasNative.Sgemm(OpenBlasNative.RowMajor, OpenBlasNative.NoTrans, OpenBlasNative.NoTrans,
                    s, d, s, shape.Scale, dp, s, keys + offset, d, 0f, gq + offset, d);
                OpenBlasNative.Sgemm(OpenBlasNative.RowMajor, OpenBlasNative.Trans, OpenBlasNative.NoTrans,
                    s, d, s, shape.Scale, dp, s, queries + offset, d, 0f, gk + offset, d);
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
