using System;
using System.Threading.Tasks;

namespace KernelDsl.Tests.Ring;

/// <summary>
/// The analytic gradients of single-device attention in float64, in global order: for O = softmax(scale·QKᵀ [+ causal
/// mask])·V and a loss with upstream gradient dO, P = softmax rows, dV = Pᵀ·dO, dP = dO·Vᵀ, dS = P ∘ (dP − rowsum(dO ∘ O)),
/// dQ = scale·dS·K, dK = scale·dSᵀ·Q, dK and dV summed over the query heads of each K/V head.
/// <see cref="Loss"/> evaluates Σ dO ∘ O so that the gradients can be checked by finite differences.
/// </summary>
internal static class AttentionBackwardReference
{
    public static (double[] DQ, double[] DK, double[] DV) Gradients(
        double[] q, double[] k, double[] v, double[] dO, int heads, int kvHeads, int s, int d, bool causal, double scale)
    {
        var dQ = new double[heads * s * d];
        var dK = new double[kvHeads * s * d];
        var dV = new double[kvHeads * s * d];
        int group = heads / kvHeads;
        // Each head's dK, dV part is its own, summed over the group afterwards: heads run in parallel without sharing a row.
        var partK = new double[heads][];
        var partV = new double[heads][];
        Parallel.For(0, heads, head =>
        {
            int kvHead = head / group;
            var pk = partK[head] = new double[s * d];
            var pv = partV[head] = new double[s * d];
            var p = Probabilities(q, k, head, kvHead, s, d, causal, scale);
            for (int i = 0; i < s; i++)
            {
                double delta = 0;
                var o = new double[d];
                for (int j = 0; j < s; j++)
                {
                    for (int c = 0; c < d; c++) o[c] += p[i * s + j] * v[(kvHead * s + j) * d + c];
                }
                for (int c = 0; c < d; c++) delta += dO[(head * s + i) * d + c] * o[c];
                for (int j = 0; j < s; j++)
                {
                    double pij = p[i * s + j];
                    if (pij == 0) continue;
                    double dp = 0;
                    for (int c = 0; c < d; c++) dp += dO[(head * s + i) * d + c] * v[(kvHead * s + j) * d + c];
                    double ds = pij * (dp - delta);
                    for (int c = 0; c < d; c++)
                    {
                        pv[j * d + c] += pij * dO[(head * s + i) * d + c];
                        pk[j * d + c] += scale * ds * q[(head * s + i) * d + c];
                        dQ[(head * s + i) * d + c] += scale * ds * k[(kvHead * s + j) * d + c];
                    }
                }
            }
        });
        for (int head = 0; head < heads; head++)
        {
            int kvHead = head / group;
            for (int e = 0; e < s * d; e++)
            {
                dK[kvHead * s * d + e] += partK[head][e];
                dV[kvHead * s * d + e] += partV[head][e];
            }
        }
        return (dQ, dK, dV);
    }

    /// <summary>Σ dO ∘ O: the loss whose gradients <see cref="Gradients"/> gives.</summary>
    public static double Loss(double[] q, double[] k, double[] v, double[] dO, int heads, int kvHeads, int s, int d, bool causal, double scale)
    {
        double loss = 0;
        for (int head = 0; head < heads; head++)
        {
            int kvHead = head / (heads / kvHeads);
            var p = Probabilities(q, k, head, kvHead, s, d, causal, scale);
            for (int i = 0; i < s; i++)
            {
                for (int j = 0; j < s; j++)
                {
                    for (int c = 0; c < d; c++) loss += dO[(head * s + i) * d + c] * p[i * s + j] * v[(kvHead * s + j) * d + c];
                }
            }
        }
        return loss;
    }

    /// <summary>The softmax rows of one head, [s, s]; masked entries 0.</summary>
    private static double[] Probabilities(double[] q, double[] k, int head, int kvHead, int s, int d, bool causal, double scale)
    {
        var p = new double[s * s];
        for (int i = 0; i < s; i++)
        {
            double max = double.NegativeInfinity;
            int keys = causal ? i + 1 : s;
            for (int j = 0; j < keys; j++)
            {
                double dot = 0;
                for (int c = 0; c < d; c++) dot += q[(head * s + i) * d + c] * k[(kvHead * s + j) * d + c];
                p[i * s + j] = dot * scale;
                max = Math.Max(max, p[i * s + j]);
            }
            double sum = 0;
            for (int j = 0; j < keys; j++) sum += p[i * s + j] = Math.Exp(p[i * s + j] - max);
            for (int j = 0; j < keys; j++) p[i * s + j] /= sum;
        }
        return p;
    }
}
