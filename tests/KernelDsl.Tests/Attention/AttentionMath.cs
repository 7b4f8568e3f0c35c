using System;
using System.Threading.Tasks;

namespace KernelDsl.Tests.Attention;

/// <summary>Attention computed directly, for comparison: float64 over a subset of the keys, and a naive 16-bit implementation.</summary>
internal static class AttentionMath
{
    /// <summary>
    /// float64 attention of every query over the keys with <paramref name="keyIncluded"/>[position] set (all keys when null),
    /// under the causal mask if asked. Q is [heads, S, d]; K, V are [kvHeads, S, d]; a row with no visible key gets O = 0, L = −∞.
    /// </summary>
    public static (double[] O, double[] Lse) Reference(
        float[] q, float[] k, float[] v, int heads, int kvHeads, int sequenceLength, int headDim, bool causal, double scale, bool[]? keyIncluded)
    {
        if (keyIncluded is null)
        {
            return Ring.AttentionReference.Full(q, k, v, heads, kvHeads, sequenceLength, headDim, causal, scale);
        }
        var o = new double[heads * sequenceLength * headDim];
        var lse = new double[heads * sequenceLength];
        int group = heads / kvHeads;
        Parallel.For(0, heads * sequenceLength, row =>
        {
            int head = row / sequenceLength, i = row % sequenceLength, kvHead = head / group;
            var logits = new double[sequenceLength];
            double max = double.NegativeInfinity;
            for (int j = 0; j < sequenceLength; j++)
            {
                logits[j] = double.NegativeInfinity;
                if (!keyIncluded[j] || (causal && j > i))
                {
                    continue;
                }
                double dot = 0;
                for (int c = 0; c < headDim; c++)
                {
                    dot += (double)q[row * headDim + c] * k[(kvHead * sequenceLength + j) * headDim + c];
                }
                logits[j] = dot * scale;
                max = Math.Max(max, logits[j]);
            }
            if (double.IsNegativeInfinity(max))
            {
                lse[row] = double.NegativeInfinity;
                return;
            }
            double sum = 0;
            for (int j = 0; j < sequenceLength; j++)
            {
                if (double.IsNegativeInfinity(logits[j]))
                {
                    continue;
                }
                double p = Math.Exp(logits[j] - max);
                sum += p;
                for (int c = 0; c < headDim; c++)
                {
                    o[row * headDim + c] += p * v[(kvHead * sequenceLength + j) * headDim + c];
                }
            }
            for (int c = 0; c < headDim; c++)
            {
                o[row * headDim + c] /= sum;
            }
            lse[row] = max + Math.Log(sum);
        });
        return (o, lse);
    }

    /// <summary>
    /// The "same-precision naive implementation" of flash-attention's test rule (its <c>attention_ref</c> run in the
    /// element type): every tensor a 16-bit framework materialises is rounded to the element type —
    /// Q·scale, then S = (Q·scale)·Kᵀ, then P = softmax(S) (computed from the rounded S in float64), then O = P·V —
    /// while each product is accumulated exactly (float64), as a tensor-core matmul accumulates in fp32 and rounds once.
    /// <paramref name="round"/> rounds a value to the element type and back.
    /// </summary>
    public static double[] NaiveSamePrecision(
        float[] q, float[] k, float[] v, int heads, int kvHeads, int sequenceLength, int headDim, bool causal, double scale, Func<double, double> round)
    {
        var o = new double[heads * sequenceLength * headDim];
        int group = heads / kvHeads;
        Parallel.For(0, heads * sequenceLength, row =>
        {
            int head = row / sequenceLength, i = row % sequenceLength, kvHead = head / group;
            int keys = causal ? i + 1 : sequenceLength;
            var scaled = new double[headDim];
            for (int c = 0; c < headDim; c++)
            {
                scaled[c] = round(q[row * headDim + c] * scale);
            }
            var s = new double[keys];
            double max = double.NegativeInfinity;
            for (int j = 0; j < keys; j++)
            {
                double dot = 0;
                for (int c = 0; c < headDim; c++)
                {
                    dot += scaled[c] * k[(kvHead * sequenceLength + j) * headDim + c];
                }
                s[j] = round(dot);
                max = Math.Max(max, s[j]);
            }
            double sum = 0;
            for (int j = 0; j < keys; j++)
            {
                s[j] = Math.Exp(s[j] - max);
                sum += s[j];
            }
            for (int c = 0; c < headDim; c++)
            {
                double value = 0;
                for (int j = 0; j < keys; j++)
                {
                    value += round(s[j] / sum) * v[(kvHead * sequenceLength + j) * headDim + c];
                }
                o[row * headDim + c] = round(value);
            }
        });
        return o;
    }
}
