using System;
using System.Threading.Tasks;
using KernelDsl;

namespace RingAttentionSample;

/// <summary>
/// The error of a ring's output against float64 causal attention, on a sample of rows: the full float64
/// reference costs 4·S²·d operations per head in double precision, too slow to run in full here, so a
/// seeded sample of (head, position) rows spread over every rank is computed exactly and compared.
/// </summary>
internal static class SampledReference
{
    /// <summary>Relative Frobenius errors of O and L over <paramref name="rows"/> sampled rows, and whether every output element was finite.</summary>
    public static (double ErrorO, double ErrorLse, bool AllFinite) Compare(Workload work, BFloat16[][] o, float[][] lse, float scale, int rows, int seed)
    {
        bool finite = true;
        for (int rank = 0; rank < work.Ranks; rank++)
        {
            finite &= Array.TrueForAll(o[rank], value => float.IsFinite((float)value)) && Array.TrueForAll(lse[rank], float.IsFinite);
        }

        // Where each global position lives: (rank, local index).
        var owner = new (int Rank, int Local)[work.SequenceLength];
        for (int rank = 0; rank < work.Ranks; rank++)
        {
            for (int i = 0; i < work.Shards[rank].LocalLength; i++)
            {
                owner[work.Shards[rank].GlobalPosition(i)] = (rank, i);
            }
        }

        var random = new Random(seed);
        var picks = new (int Head, int Position)[rows];
        for (int n = 0; n < rows; n++)
        {
            picks[n] = (random.Next(work.Heads), random.Next(work.SequenceLength));
        }
        var diffO = new double[rows];
        var normO = new double[rows];
        var diffL = new double[rows];
        var normL = new double[rows];
        int d = work.HeadDim, s = work.SequenceLength, group = work.Heads / work.KvHeads;
        Parallel.For(0, rows, n =>
        {
            var (head, position) = picks[n];
            int kvHead = head / group;
            // Causal: the query at `position` sees keys 0 … position.
            var logits = new double[position + 1];
            double max = double.NegativeInfinity;
            for (int j = 0; j <= position; j++)
            {
                double dot = 0;
                for (int c = 0; c < d; c++)
                {
                    dot += (double)work.Q[(head * s + position) * d + c] * work.K[(kvHead * s + j) * d + c];
                }
                logits[j] = dot * scale;
                max = Math.Max(max, logits[j]);
            }
            double sum = 0;
            var expected = new double[d];
            for (int j = 0; j <= position; j++)
            {
                double p = Math.Exp(logits[j] - max);
                sum += p;
                for (int c = 0; c < d; c++)
                {
                    expected[c] += p * work.V[(kvHead * s + j) * d + c];
                }
            }
            var (rank, local) = owner[position];
            int row = head * work.Shards[rank].LocalLength + local;
            for (int c = 0; c < d; c++)
            {
                double want = expected[c] / sum;
                double got = (float)o[rank][row * d + c];
                diffO[n] += (got - want) * (got - want);
                normO[n] += want * want;
            }
            double wantL = max + Math.Log(sum);
            diffL[n] = (lse[rank][row] - wantL) * (lse[rank][row] - wantL);
            normL[n] = wantL * wantL;
        });
        return (Math.Sqrt(Sum(diffO) / Sum(normO)), Math.Sqrt(Sum(diffL) / Sum(normL)), finite);
    }

    private static double Sum(double[] values)
    {
        double total = 0;
        foreach (double value in values)
        {
            total += value;
        }
        return total;
    }
}
