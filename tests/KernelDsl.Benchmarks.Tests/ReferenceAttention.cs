using System;

namespace KernelDsl.Benchmarks.Tests;

/// <summary>softmax(scale·Q·Kᵀ [+ causal mask])·V in float64, [heads, S, d] row-major.</summary>
internal static class ReferenceAttention
{
    public static double[] Compute(AttentionShape shape, float[] q, float[] k, float[] v)
    {
        int s = shape.SequenceLength, d = shape.HeadDim;
        var o = new double[q.Length];
        var weights = new double[s];
        for (int head = 0; head < shape.Heads; head++)
        {
            int offset = head * s * d;
            for (int i = 0; i < s; i++)
            {
                int visible = shape.Causal ? i + 1 : s;
                double max = double.NegativeInfinity;
                for (int j = 0; j < visible; j++)
                {
                    double dot = 0;
                    for (int c = 0; c < d; c++)
                    {
                        dot += (double)q[offset + i * d + c] * k[offset + j * d + c];
                    }
                    weights[j] = dot * shape.Scale;
                    max = Math.Max(max, weights[j]);
                }
                double sum = 0;
                for (int j = 0; j < visible; j++)
                {
                    weights[j] = Math.Exp(weights[j] - max);
                    sum += weights[j];
                }
                for (int j = 0; j < visible; j++)
                {
                    for (int c = 0; c < d; c++)
                    {
                        o[offset + i * d + c] += weights[j] / sum * v[offset + j * d + c];
                    }
                }
            }
        }
        return o;
    }

    /// <summary>‖actual − expected‖ / ‖expected‖.</summary>
    public static double RelativeError(ReadOnlySpan<float> actual, double[] expected)
    {
        double difference = 0, norm = 0;
        for (int i = 0; i < expected.Length; i++)
        {
            difference += (actual[i] - expected[i]) * (actual[i] - expected[i]);
            norm += expected[i] * expected[i];
        }
        return Math.Sqrt(difference / norm);
    }
}
