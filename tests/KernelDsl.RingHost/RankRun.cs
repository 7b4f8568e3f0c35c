using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.Linq;
using KernelDsl.Ring;
using KernelDsl.Tests.Ring;

namespace KernelDsl.RingHost;

/// <summary>One rank's run: inputs, ring passes, optional compute-only pass, check, result line.</summary>
internal static class RankRun
{
    /// <summary>Runs the rank with <paramref name="kernel"/> and prints its line; returns its exit code.</summary>
    public static int Execute(IRingCommunicator communicator, HostKernel kernel, HostOptions options)
    {
        // With --backward the fault is injected into the backward pass, the forward one runs on the plain ring.
        IRingCommunicator faulty = options.Fault is { } plan ? new FaultInjectingCommunicator(communicator, plan) : communicator;
        if (!options.Backward)
        {
            communicator = faulty;
        }
        int rank = communicator.Rank, ranks = communicator.Size;
        int heads = options.Heads, kvHeads = options.KvHeads ?? heads, headDim = options.HeadDim, length = options.SequenceLength;
        string prefix = string.Create(CultureInfo.InvariantCulture, $"RINGHOST rank={rank} size={ranks}");

        // Every rank draws the whole Q, K, V from the same seed and keeps its shard, so the reference for its
        // rows needs no communication.
        var random = new Random(options.Seed);
        float[] q = Values(random, heads * length * headDim);
        float[] k = Values(random, kvHeads * length * headDim);
        float[] v = Values(random, kvHeads * length * headDim);
        var shard = SequenceShard.For(options.Layout, length, ranks, rank);
        float[] localQ = Gather(q, heads, shard, length, headDim);
        float[] localK = Gather(k, kvHeads, shard, length, headDim);
        float[] localV = Gather(v, kvHeads, shard, length, headDim);
        var o = new float[heads * shard.LocalLength * headDim];
        var lse = new float[heads * shard.LocalLength];

        var timings = new List<RingAttentionTimings>();
        try
        {
            for (int pass = 0; pass < options.Warmup + options.Iterations; pass++)
            {
                // Poisoned, so that a row the ring never wrote cannot pass the check.
                Array.Fill(o, float.NaN);
                Array.Fill(lse, float.NaN);
                var timing = kernel.Forward(communicator, heads, kvHeads, length, localQ, localK, localV, o, lse, null);
                if (pass >= options.Warmup)
                {
                    timings.Add(timing);
                }
            }
        }
        catch (Exception exception)
        {
            return Failed(prefix, exception);
        }

        (double DQ, double DK, double DV)? gradientErrors = null;
        TimeSpan backwardTime = TimeSpan.Zero;
        TimeSpan? backwardComputeOnly = null;
        if (options.Backward)
        {
            float[] dO = Values(new Random(options.Seed + 1), heads * length * headDim);
            var dQ = new float[localQ.Length];
            var dK = new float[localK.Length];
            var dV = new float[localV.Length];
            float[] localDO = Gather(dO, heads, shard, length, headDim);
            var times = new List<TimeSpan>();
            try
            {
                for (int pass = 0; pass < options.Warmup + options.Iterations; pass++)
                {
                    Array.Fill(dQ, float.NaN);
                    Array.Fill(dK, float.NaN);
                    Array.Fill(dV, float.NaN);
                    long start = Stopwatch.GetTimestamp();
                    kernel.Backward(faulty, heads, kvHeads, length, localQ, localK, localV, o, lse, localDO, dQ, dK, dV);
                    if (pass >= options.Warmup)
                    {
                        times.Add(Stopwatch.GetElapsedTime(start));
                    }
                }
            }
            catch (Exception exception)
            {
                return Failed(prefix, exception);
            }
            backwardTime = times.Order().ElementAt(times.Count / 2);
            if (options.ComputeOnly)
            {
                backwardComputeOnly = BackwardComputeOnly(kernel, options, ranks, rank, localQ, k, v, o, lse, localDO);
            }
            if (options.Check)
            {
                gradientErrors = CompareGradients(kernel, options, shard, q, k, v, dO, dQ, dK, dV);
            }
        }

        var median = timings.OrderBy(timing => timing.Total).ElementAt(timings.Count / 2);
        TimeSpan? computeOnly = options.ComputeOnly ? ComputeOnly(kernel, options, ranks, rank, localQ, k, v) : null;
        var line = new List<string> { prefix };
        bool ok = true;
        if (options.Check)
        {
            var (errorO, errorLse, unwritten) = Compare(kernel, options, shard, q, k, v, o, lse);
            ok = unwritten == 0 && errorO <= options.Tolerance && errorLse <= options.Tolerance;
            if (gradientErrors is var (eq, ek, ev))
            {
                ok &= eq <= options.Tolerance && ek <= options.Tolerance && ev <= options.Tolerance;
            }
            line.Add(ok ? "result=ok" : "result=mismatch");
            line.Add(Invariant($"errorO={errorO:E2} errorLse={errorLse:E2} unwritten={unwritten}"));
            if (gradientErrors is var (gq, gk, gv))
            {
                line.Add(Invariant($"errorDQ={gq:E2} errorDK={gk:E2} errorDV={gv:E2}"));
            }
        }
        else
        {
            line.Add("result=ok");
        }
        var computeBase = computeOnly ?? median.Compute;
        line.Add(Invariant($"totalMs={median.Total.TotalMilliseconds:F3} computeMs={median.Compute.TotalMilliseconds:F3} commMs={median.Communication.TotalMilliseconds:F3} handshakeMs={median.Handshake.TotalMilliseconds:F3}"));
        if (computeOnly is { } alone)
        {
            line.Add(Invariant($"computeOnlyMs={alone.TotalMilliseconds:F3}"));
        }
        line.Add(Invariant($"ringOverCompute={median.Total / computeBase:F3}"));
        if (options.Backward)
        {
            line.Add(Invariant($"backwardMs={backwardTime.TotalMilliseconds:F3}"));
            if (backwardComputeOnly is { } backwardAlone)
            {
                line.Add(Invariant($"backwardComputeOnlyMs={backwardAlone.TotalMilliseconds:F3} backwardRingOverCompute={backwardTime / backwardAlone:F3}"));
            }
        }
        line.Add("steps=" + string.Join(";", median.Steps.Select(step =>
            Invariant($"{step.Compute.TotalMilliseconds:F3}/{step.Communication.TotalMilliseconds:F3}"))));
        line.Add(Invariant($"S={length} d={headDim} heads={heads}/{kvHeads} layout={options.Layout} causal={options.Causal} buffers={options.Buffers} seed={options.Seed} kernel={kernel.Info.Name}"));
        Console.WriteLine(string.Join(' ', line));
        return ok ? Program.OkExitCode : Program.MismatchExitCode;
    }

    /// <summary>Prints the rank's failure line; the exit code says whether the ring broke or this rank's own code failed.</summary>
    private static int Failed(string prefix, Exception exception)
    {
        string message = exception.Message.ReplaceLineEndings(" ");
        Console.WriteLine($"{prefix} result=failed error={exception.GetType().Name} message={message}");
        return exception is RingCommunicationException ? Program.RingBrokenExitCode : Program.ErrorExitCode;
    }

    /// <summary>
    /// The median time of this rank's P block computations with every shard already local: the ring's compute
    /// without its communication, the denominator of the overlap figure.
    /// </summary>
    private static TimeSpan ComputeOnly(HostKernel kernel, HostOptions options, int ranks, int rank, float[] localQ, float[] k, float[] v)
    {
        int heads = options.Heads, kvHeads = options.KvHeads ?? heads, headDim = options.HeadDim, length = options.SequenceLength;
        var shards = Enumerable.Range(0, ranks).Select(source => SequenceShard.For(options.Layout, length, ranks, source)).ToArray();
        var keys = shards.Select(shard => Gather(k, kvHeads, shard, length, headDim)).ToArray();
        var values = shards.Select(shard => Gather(v, kvHeads, shard, length, headDim)).ToArray();
        var runningO = new float[localQ.Length];
        var runningLse = new float[heads * shards[rank].LocalLength];
        var times = new List<TimeSpan>();
        for (int pass = 0; pass < options.Warmup + options.Iterations; pass++)
        {
            RingAttentionDriver.InitializeState(runningO, runningLse);
            long start = Stopwatch.GetTimestamp();
            for (int step = 0; step < ranks; step++)
            {
                int source = RingSchedule.SourceRank(rank, ranks, step);
                kernel.ForwardStep(heads, kvHeads, length, ranks, rank, source, localQ, keys[source], values[source], runningO, runningLse, null);
            }
            if (pass >= options.Warmup)
            {
                times.Add(Stopwatch.GetElapsedTime(start));
            }
        }
        return times.Order().ElementAt(times.Count / 2);
    }

    /// <summary>
    /// The median time of this rank's backward pass with every shard already local: D once, then the P
    /// <c>BackwardStep</c>s into fp32 accumulators (dK and dV one per shard, as they would travel), without communication;
    /// the denominator of the backward's overlap figure.
    /// </summary>
    private static TimeSpan BackwardComputeOnly(HostKernel kernel, HostOptions options, int ranks, int rank, float[] localQ, float[] k, float[] v, float[] o, float[] lse, float[] localDO)
    {
        int heads = options.Heads, kvHeads = options.KvHeads ?? heads, headDim = options.HeadDim, length = options.SequenceLength;
        var shards = Enumerable.Range(0, ranks).Select(source => SequenceShard.For(options.Layout, length, ranks, source)).ToArray();
        var keys = shards.Select(shard => Gather(k, kvHeads, shard, length, headDim)).ToArray();
        var values = shards.Select(shard => Gather(v, kvHeads, shard, length, headDim)).ToArray();
        var dK = keys.Select(shardKeys => new float[shardKeys.Length]).ToArray();
        var dV = values.Select(shardValues => new float[shardValues.Length]).ToArray();
        var dQ = new float[localQ.Length];
        var delta = new float[lse.Length];
        var times = new List<TimeSpan>();
        for (int pass = 0; pass < options.Warmup + options.Iterations; pass++)
        {
            Array.Clear(dQ);
            foreach (float[] accumulator in dK.Concat(dV))
            {
                Array.Clear(accumulator);
            }
            long start = Stopwatch.GetTimestamp();
            kernel.BackwardDelta(o, localDO, delta);
            for (int step = 0; step < ranks; step++)
            {
                int source = RingSchedule.SourceRank(rank, ranks, step);
                kernel.BackwardStep(heads, kvHeads, length, ranks, rank, source, localQ, keys[source], values[source], localDO, lse, delta, dQ, dK[source], dV[source]);
            }
            if (pass >= options.Warmup)
            {
                times.Add(Stopwatch.GetElapsedTime(start));
            }
        }
        return times.Order().ElementAt(times.Count / 2);
    }

    /// <summary>Relative Frobenius errors of O and L against float64 attention at this rank's global rows, and how many values were never written.</summary>
    private static (double ErrorO, double ErrorLse, int Unwritten) Compare(
        HostKernel kernel, HostOptions options, SequenceShard shard, float[] q, float[] k, float[] v, float[] o, float[] lse)
    {
        int heads = options.Heads, kvHeads = options.KvHeads ?? heads, headDim = options.HeadDim, length = options.SequenceLength;
        var (expectedO, expectedLse) = AttentionReference.Full(q, k, v, heads, kvHeads, length, headDim, options.Causal, kernel.Info.Scale);
        double diffO = 0, normO = 0, diffL = 0, normL = 0;
        int unwritten = 0;
        for (int head = 0; head < heads; head++)
        {
            for (int i = 0; i < shard.LocalLength; i++)
            {
                int local = head * shard.LocalLength + i;
                int global = head * length + shard.GlobalPosition(i);
                if (float.IsNaN(lse[local]) || float.IsFinite(lse[local]) != double.IsFinite(expectedLse[global]))
                {
                    unwritten++;
                }
                else if (float.IsFinite(lse[local]))
                {
                    diffL += Math.Pow(lse[local] - expectedLse[global], 2);
                    normL += Math.Pow(expectedLse[global], 2);
                }
                for (int c = 0; c < headDim; c++)
                {
                    float got = o[local * headDim + c];
                    double want = expectedO[global * headDim + c];
                    if (!float.IsFinite(got))
                    {
                        unwritten++;
                        continue;
                    }
                    diffO += (got - want) * (got - want);
                    normO += want * want;
                }
            }
        }
        return (Math.Sqrt(diffO / Math.Max(normO, double.Epsilon)), Math.Sqrt(diffL / Math.Max(normL, double.Epsilon)), unwritten);
    }

    /// <summary>
    /// Relative Frobenius errors of this rank's dQ (its query rows) and dK, dV (its key rows) against the float64 gradients of
    /// the whole sequence; a NaN left by the poison counts as an infinite error.
    /// </summary>
    private static (double DQ, double DK, double DV) CompareGradients(
        HostKernel kernel, HostOptions options, SequenceShard shard, float[] q, float[] k, float[] v, float[] dO, float[] dQ, float[] dK, float[] dV)
    {
        int heads = options.Heads, kvHeads = options.KvHeads ?? heads, headDim = options.HeadDim, length = options.SequenceLength;
        static double[] Wide(float[] x) => Array.ConvertAll(x, value => (double)value);
        var (eq, ek, ev) = AttentionBackwardReference.Gradients(Wide(q), Wide(k), Wide(v), Wide(dO), heads, kvHeads, length, headDim, options.Causal, kernel.Info.Scale);
        double Error(float[] local, double[] global, int rowsOf)
        {
            double diff = 0, norm = 0;
            for (int head = 0; head < rowsOf; head++)
            {
                for (int i = 0; i < shard.LocalLength; i++)
                {
                    for (int c = 0; c < headDim; c++)
                    {
                        double want = global[(head * length + shard.GlobalPosition(i)) * headDim + c];
                        double got = local[(head * shard.LocalLength + i) * headDim + c];
                        diff += double.IsFinite(got) ? (got - want) * (got - want) : double.PositiveInfinity;
                        norm += want * want;
                    }
                }
            }
            return Math.Sqrt(diff / Math.Max(norm, double.Epsilon));
        }
        return (Error(dQ, eq, heads), Error(dK, ek, kvHeads), Error(dV, ev, kvHeads));
    }

    /// <summary>Uniform values in [−1, 1): never zeros, so a missing contribution shows.</summary>
    private static float[] Values(Random random, int count)
    {
        var values = new float[count];
        for (int i = 0; i < count; i++)
        {
            values[i] = random.NextSingle() * 2 - 1;
        }
        return values;
    }

    /// <summary>The shard's rows of a global [heads, S, d] tensor, in local order.</summary>
    private static float[] Gather(float[] global, int heads, SequenceShard shard, int length, int headDim)
    {
        var local = new float[heads * shard.LocalLength * headDim];
        for (int head = 0; head < heads; head++)
        {
            for (int i = 0; i < shard.LocalLength; i++)
            {
                global.AsSpan((head * length + shard.GlobalPosition(i)) * headDim, headDim)
                    .CopyTo(local.AsSpan((head * shard.LocalLength + i) * headDim, headDim));
            }
        }
        return local;
    }

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
