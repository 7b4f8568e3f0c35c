using System;
using System.Collections.Generic;
using KernelDsl.Ring;
using Xunit;

namespace KernelDsl.Tests.Attention;

/// <summary>
/// A generated kernel over <typeparamref name="T"/>: runs a case through one of its entry points on fresh random
/// inputs (rounded to <typeparamref name="T"/> first, so the reference sees what the kernel sees), outputs poisoned
/// with NaN beforehand, and compares every output element with float64 attention.
/// </summary>
internal sealed class AttentionKernel<T>(
    AttentionInfo info,
    ForwardFunction<T> forward,
    ForwardStepFunction<T> forwardStep,
    FinalizeFunction<T> finalize,
    AttentionFunction<T> attention,
    Func<float, T> narrow,
    Func<T, float> widen) : AttentionKernel
    where T : unmanaged
{
    public override AttentionInfo Info => info;

    private int D => info.HeadDim;

    public override AttentionOutcome RunRing(AttentionCase check)
    {
        var data = Inputs(check);
        var results = new (T[] O, float[] Lse)[check.Ranks];
        var ring = InProcessRing.Create(check.Ranks, TimeSpan.FromSeconds(60));
        InProcessRing.RunRanks(ring, communicator =>
        {
            var shard = Shard(check, communicator.Rank);
            var (o, lse) = Poisoned(check.Heads, shard.LocalLength);
            forward(communicator, check.Heads, check.KvHeads, check.SequenceLength,
                Gather(data.Q, check.Heads, check, shard), Gather(data.K, check.KvHeads, check, shard), Gather(data.V, check.KvHeads, check, shard),
                o, lse, check.Isa);
            results[communicator.Rank] = (o, lse);
        });
        return Compare(check, data, results, keyIncluded: null, rank => Shard(check, rank));
    }

    public override AttentionOutcome RunSteps(AttentionCase check, Func<int, int, int> order)
    {
        var data = Inputs(check);
        var results = new (T[] O, float[] Lse)[check.Ranks];
        for (int rank = 0; rank < check.Ranks; rank++)
        {
            var shard = Shard(check, rank);
            var q = Gather(data.Q, check.Heads, check, shard);
            var runningO = new float[check.Heads * shard.LocalLength * D];
            var runningLse = new float[check.Heads * shard.LocalLength];
            InitializeState(runningO, runningLse);
            for (int step = 0; step < check.Ranks; step++)
            {
                var source = Shard(check, order(rank, step));
                forwardStep(check.Heads, check.KvHeads, check.SequenceLength, check.Ranks, rank, source.Rank,
                    q, Gather(data.K, check.KvHeads, check, source), Gather(data.V, check.KvHeads, check, source), runningO, runningLse, check.Isa);
            }
            results[rank] = FinalizeInto(check, shard, runningO, runningLse);
        }
        return Compare(check, data, results, keyIncluded: null, rank => Shard(check, rank));
    }

    public override AttentionOutcome RunOneStep(AttentionCase check, int rank, int sourceRank)
    {
        var data = Inputs(check);
        var shard = Shard(check, rank);
        var source = Shard(check, sourceRank);
        var runningO = new float[check.Heads * shard.LocalLength * D];
        var runningLse = new float[check.Heads * shard.LocalLength];
        InitializeState(runningO, runningLse);
        forwardStep(check.Heads, check.KvHeads, check.SequenceLength, check.Ranks, rank, sourceRank,
            Gather(data.Q, check.Heads, check, shard), Gather(data.K, check.KvHeads, check, source), Gather(data.V, check.KvHeads, check, source),
            runningO, runningLse, check.Isa);
        var keyIncluded = new bool[check.SequenceLength];
        for (int j = 0; j < source.LocalLength; j++)
        {
            keyIncluded[source.GlobalPosition(j)] = true;
        }
        return Compare(check, data, [FinalizeInto(check, shard, runningO, runningLse)], keyIncluded, _ => shard);
    }

    public override AttentionOutcome RunSingle(AttentionCase check)
    {
        var data = Inputs(check);
        var all = new AttentionCase(1, check.SequenceLength, check.Heads, check.KvHeads) { InputScale = check.InputScale, Isa = check.Isa };
        var (o, lse) = Poisoned(check.Heads, check.SequenceLength);
        attention(Narrow(data.Q), Narrow(data.K), Narrow(data.V), o, lse, check.Heads, check.KvHeads, check.SequenceLength, check.Isa);
        // One rank holds every position in order, whatever the layout.
        return Compare(all, data, [(o, lse)], keyIncluded: null, _ => SequenceShard.For(RingLayout.Contiguous, check.SequenceLength, 1, 0));
    }

    private static void InitializeState(float[] runningO, float[] runningLse)
    {
        Array.Clear(runningO);
        Array.Fill(runningLse, float.NegativeInfinity);
    }

    private (T[] O, float[] Lse) FinalizeInto(AttentionCase check, SequenceShard shard, float[] runningO, float[] runningLse)
    {
        var (o, lse) = Poisoned(check.Heads, shard.LocalLength);
        finalize(runningO, runningLse, o, lse);
        return (o, lse);
    }

    private (T[] O, float[] Lse) Poisoned(int heads, int rows)
    {
        var o = new T[heads * rows * D];
        Array.Fill(o, narrow(float.NaN));
        var lse = new float[heads * rows];
        Array.Fill(lse, float.NaN);
        return (o, lse);
    }

    private SequenceShard Shard(AttentionCase check, int rank) => SequenceShard.For(info.Layout, check.SequenceLength, check.Ranks, rank);

    private sealed record Data(float[] Q, float[] K, float[] V);

    /// <summary>Uniform values in [−1, 1) (Q times InputScale), rounded through <typeparamref name="T"/>.</summary>
    private Data Inputs(AttentionCase check)
    {
        var random = new Random(check.Seed);
        float[] Values(int count, float scale)
        {
            var values = new float[count];
            for (int i = 0; i < count; i++)
            {
                values[i] = widen(narrow(scale * (random.NextSingle() * 2 - 1)));
            }
            return values;
        }
        int s = check.SequenceLength;
        return new Data(Values(check.Heads * s * D, check.InputScale), Values(check.KvHeads * s * D, 1f), Values(check.KvHeads * s * D, 1f));
    }

    private T[] Narrow(float[] values) => Array.ConvertAll(values, value => narrow(value));

    /// <summary>A shard's rows of a global [heads, S, d] tensor: local row i of each head is global row GlobalPosition(i).</summary>
    private T[] Gather(float[] global, int heads, AttentionCase check, SequenceShard shard)
    {
        var local = new T[heads * shard.LocalLength * D];
        for (int head = 0; head < heads; head++)
        {
            for (int i = 0; i < shard.LocalLength; i++)
            {
                int from = (head * check.SequenceLength + shard.GlobalPosition(i)) * D;
                int to = (head * shard.LocalLength + i) * D;
                for (int c = 0; c < D; c++)
                {
                    local[to + c] = narrow(global[from + c]);
                }
            }
        }
        return local;
    }

    /// <summary>
    /// Checks every element of every rank's O and L (written, finite where the reference is; a row with no visible key
    /// exactly O = 0, L = −∞) and measures the errors against float64 attention over the included keys.
    /// </summary>
    private AttentionOutcome Compare(AttentionCase check, Data data, IReadOnlyList<(T[] O, float[] Lse)> results, bool[]? keyIncluded, Func<int, SequenceShard> shardOf)
    {
        int s = check.SequenceLength;
        double scale = info.Scale;
        var (expectedO, expectedLse) = AttentionMath.Reference(data.Q, data.K, data.V, check.Heads, check.KvHeads, s, D, info.Causal, scale, keyIncluded);
        double[]? naive = typeof(T) == typeof(float) || keyIncluded is not null ? null
            : AttentionMath.NaiveSamePrecision(data.Q, data.K, data.V, check.Heads, check.KvHeads, s, D, info.Causal, scale, x => widen(narrow((float)x)));

        double diffO = 0, normO = 0, maxO = 0, diffL = 0, normL = 0, naiveDiff = 0, naiveMax = 0;
        for (int rank = 0; rank < results.Count; rank++)
        {
            var shard = shardOf(rank);
            var (o, lse) = results[rank];
            for (int head = 0; head < check.Heads; head++)
            {
                for (int i = 0; i < shard.LocalLength; i++)
                {
                    int local = head * shard.LocalLength + i;
                    int global = head * s + shard.GlobalPosition(i);
                    string where = $"{info.Name} {check}: rank {rank}, head {head}, row {i} (position {shard.GlobalPosition(i)})";
                    float gotL = lse[local];
                    double wantL = expectedLse[global];
                    if (double.IsNegativeInfinity(wantL))
                    {
                        Assert.True(float.IsNegativeInfinity(gotL), $"{where}: sees no key, so L must be −∞; got {gotL}.");
                    }
                    else
                    {
                        Assert.True(float.IsFinite(gotL), $"{where}: L = {gotL} (not written, or not finite), expected {wantL}.");
                        diffL += (gotL - wantL) * (gotL - wantL);
                        normL += wantL * wantL;
                    }
                    for (int c = 0; c < D; c++)
                    {
                        float got = widen(o[local * D + c]);
                        double want = expectedO[global * D + c];
                        if (double.IsNegativeInfinity(wantL))
                        {
                            Assert.True(got == 0, $"{where}: sees no key, so O[{c}] must be 0; got {got}.");
                            continue;
                        }
                        Assert.True(float.IsFinite(got), $"{where}: O[{c}] = {got} (not written, or not finite).");
                        diffO += (got - want) * (got - want);
                        normO += want * want;
                        maxO = Math.Max(maxO, Math.Abs(got - want));
                        if (naive is not null)
                        {
                            double error = naive[global * D + c] - want;
                            naiveDiff += error * error;
                            naiveMax = Math.Max(naiveMax, Math.Abs(error));
                        }
                    }
                }
            }
        }
        static double Relative(double diff, double norm) => norm == 0 ? Math.Sqrt(diff) : Math.Sqrt(diff / norm);
        return new AttentionOutcome(
            Relative(diffO, normO), Relative(diffL, normL), maxO,
            naive is null ? double.NaN : Relative(naiveDiff, normO), naive is null ? double.NaN : naiveMax);
    }
}
