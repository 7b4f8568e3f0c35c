using System;
using System.Threading.Tasks;

namespace KernelDsl.Tests.Ring;

/// <summary>Single-device attention over the whole sequence in float64: softmax(scale·QKᵀ [+ causal mask])·V and its log-sum-exp.</summary>
internal static class AttentionReference
{
    /// <summary>
    /// O [heads, S, d] and L [heads, S] (natural log) for Q [heads, S, d] and K, V [kvHeads, S, d];
    /// query head h uses K/V head h / (heads / kvHeads). A row with no visible key gets O = 0, L = −∞.
    /// </summary>
    public static (double[] O, double[] Lse) Full(
        float[] q, float[] k, float[] v, int heads, int kvHeads, int sequenceLength, int headDim, bool causal, double scale)
    {
        var o = new double[heads * sequenceLength * headDim];
        var lse = new double[heads * sequenceLength];
        int group = heads / kvHeads;
        Parallel.For(0, heads * sequenceLength, row =>
        {
            int head = row / sequenceLength, i = row % sequenceLength, kvHead = head / group;
            int keys = causal ? i + 1 : sequenceLength;
            var logits = new double[keys];
            double max = double.NegativeInfinity;
            for (int j = 0; j < keys; j++)
            {
                double dot = 0;
                for (int c = 0; c < headDim; c++)
                {
                    dot += (double)q[row * headDim + c] * k[(kvHead * sequenceLength + j) * headDim + c];
                }
                logits[j] = dot * scale;
                max = Math.Max(max, logits[j]);
            }
            if (keys == 0)
            {
                lse[row] = double.NegativeInfinity;
                return;
            }
            double sum = 0;
            for (int j = 0; j < keys; j++)
            {
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
}
