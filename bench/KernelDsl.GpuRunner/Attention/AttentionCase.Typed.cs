using System;
using System.Threading.Tasks;
using KernelDsl.Cuda;
using KernelDsl.Ring;

namespace KernelDsl.GpuRunner;

/// <summary>The generated attention kernel <typeparamref name="TKernel"/>, of <typeparamref name="T"/> elements.</summary>
internal sealed class AttentionCase<TKernel, T, TE> : AttentionCase
    where TKernel : IAttentionKernel<T>
    where T : unmanaged
    where TE : IElement<T>
{
    private static readonly AttentionInfo info = TKernel.Info;

    public override AttentionInfo Info => info;

    public override string Source => TKernel.CudaSource;

    public override KernelCase? Backward => info.Backward is { } plan && TKernel.CudaBackwardSource is { } source ? new AttentionBackwardCase(Name, source, plan) : null;

    public override AttentionCheck Check(CudaStream stream, int heads, int kvHeads, int sequence, int seed)
    {
        int d = info.HeadDim;
        try
        {
            T[] q = HostData.Matrix<T, TE>(heads * sequence, d, d, 0, seed);
            T[] k = HostData.Matrix<T, TE>(kvHeads * sequence, d, d, 0, seed + 1);
            T[] v = HostData.Matrix<T, TE>(kvHeads * sequence, d, d, 0, seed + 2);
            var o = new T[q.Length];
            var lse = new float[heads * sequence];
            using var run = new Buffers(q, k, v, heads, sequence, d);
            run.O.Fill(TE.NaN);
            run.Lse.Fill(float.NaN);
            Forward(stream, run, heads, kvHeads, sequence);
            stream.Synchronize();
            run.O.CopyTo(o);
            run.Lse.CopyTo(lse);

            double oDiff = 0, oNorm = 0, lDiff = 0, lNorm = 0;
            long nans = 0;
            object gate = new();
            Parallel.For(0, heads * sequence, row =>
            {
                int h = row / sequence, i = row % sequence;
                var (expected, expectedLse) = Reference(q, k, v, h, heads, kvHeads, i, sequence);
                double localDiff = 0, localNorm = 0;
                long localNaNs = float.IsNaN(lse[row]) ? 1 : 0;
                for (int c = 0; c < d; c++)
                {
                    T actual = o[(long)row * d + c];
                    localNaNs += TE.IsNaN(actual) ? 1 : 0;
                    double diff = TE.ToDouble(actual) - expected[c];
                    localDiff += double.IsFinite(diff) ? diff * diff : double.PositiveInfinity;
                    localNorm += expected[c] * expected[c];
                }
                double lseDiff = lse[row] - expectedLse;
                lock (gate)
                {
                    oDiff += localDiff;
                    oNorm += localNorm;
                    lDiff += double.IsFinite(lseDiff) ? lseDiff * lseDiff : double.PositiveInfinity;
                    lNorm += expectedLse * expectedLse;
                    nans += localNaNs;
                }
            });
            return new AttentionCheck(Name, heads, kvHeads, sequence, seed,
                Math.Sqrt(oDiff / Math.Max(oNorm, 1e-300)), Math.Sqrt(lDiff / Math.Max(lNorm, 1e-300)), TE.Tolerance, nans, null);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            return new AttentionCheck(Name, heads, kvHeads, sequence, seed, double.NaN, double.NaN, TE.Tolerance, 0, $"{e.GetType().Name}: {e.Message}");
        }
    }

    public override AttentionTiming Time(CudaStream stream, int heads, int sequence, int samples, int seed)
    {
        int d = info.HeadDim;
        try
        {
            T[] q = HostData.Matrix<T, TE>(heads * sequence, d, d, 0, seed);
            T[] k = HostData.Matrix<T, TE>(heads * sequence, d, d, 0, seed + 1);
            T[] v = HostData.Matrix<T, TE>(heads * sequence, d, d, 0, seed + 2);
            using var run = new Buffers(q, k, v, heads, sequence, d);
            run.O.Fill(TE.NaN);
            using var timer = new StreamTimer(stream);
            TimingResult timing = Timing.Measure(() => Forward(stream, run, heads, heads, sequence), timer, samples);
            stream.Synchronize();
            var o = new T[q.Length];
            run.O.CopyTo(o);

            // Spot check: 8 random rows against float64 over all their keys.
            var random = new Random(seed + 3);
            double diff = 0, norm = 0;
            for (int s = 0; s < 8; s++)
            {
                int h = random.Next(heads), i = random.Next(sequence);
                var (expected, _) = Reference(q, k, v, h, heads, heads, i, sequence);
                for (int c = 0; c < d; c++)
                {
                    double delta = TE.ToDouble(o[((long)h * sequence + i) * d + c]) - expected[c];
                    diff += double.IsFinite(delta) ? delta * delta : double.PositiveInfinity;
                    norm += expected[c] * expected[c];
                }
            }
            double tflops = Flops(heads, sequence) / (timing.MedianMs * 1e-3) / 1e12;
            return new AttentionTiming(Name, heads, sequence, d, info.Causal, timing, tflops, Math.Sqrt(diff / norm), null);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            return Failed(heads, sequence, e, backward: false);
        }
    }

    public override AttentionTiming TimeBackward(CudaStream stream, int heads, int sequence, int samples, int seed)
    {
        int d = info.HeadDim;
        try
        {
            T[] q = HostData.Matrix<T, TE>(heads * sequence, d, d, 0, seed);
            T[] k = HostData.Matrix<T, TE>(heads * sequence, d, d, 0, seed + 1);
            T[] v = HostData.Matrix<T, TE>(heads * sequence, d, d, 0, seed + 2);
            T[] dO = HostData.Matrix<T, TE>(heads * sequence, d, d, 0, seed + 4);
            using var run = new Buffers(q, k, v, heads, sequence, d);
            using var deviceDO = new DeviceBuffer<T>(dO.Length);
            using var delta = new DeviceBuffer<float>(heads * sequence);
            using var dQ = new DeviceBuffer<float>(q.Length);
            using var dK = new DeviceBuffer<float>(k.Length);
            using var dV = new DeviceBuffer<float>(v.Length);
            deviceDO.CopyFrom(dO);
            var shard = SequenceShard.For(info.Layout, sequence, 1, 0);
            Forward(stream, run, heads, heads, sequence);
            TKernel.LaunchBackwardDelta(stream, run.O, deviceDO, delta, heads, sequence);
            void Step() => TKernel.LaunchBackwardStep(stream, run.Q, run.K, run.V, deviceDO, run.Lse, delta, dQ, dK, dV, heads, heads, sequence, sequence, shard, shard);
            using var timer = new StreamTimer(stream);
            TimingResult timing = Timing.Measure(Step, timer, samples);
            stream.Synchronize();
            dV.Fill(0f);  // the timed steps added into it: one more step from zero for the spot check
            Step();
            stream.Synchronize();
            var lse = new float[heads * sequence];
            var gradient = new float[v.Length];
            run.Lse.CopyTo(lse);
            dV.CopyTo(gradient);

            // dV of key j = sum over the queries i that see it of P_ij dO_i, with P_ij = exp(scale q_i . k_j - L_i).
            var random = new Random(seed + 5);
            double diff = 0, norm = 0;
            for (int s = 0; s < 8; s++)
            {
                int h = random.Next(heads), j = random.Next(sequence);
                var expected = new double[d];
                long kRow = ((long)h * sequence + j) * d;
                for (int i = info.Causal ? j : 0; i < sequence; i++)
                {
                    long qRow = ((long)h * sequence + i) * d;
                    double dot = 0;
                    for (int c = 0; c < d; c++)
                    {
                        dot += TE.ToDouble(q[qRow + c]) * TE.ToDouble(k[kRow + c]);
                    }
                    double p = Math.Exp(dot * info.Scale - lse[(long)h * sequence + i]);
                    for (int c = 0; c < d; c++)
                    {
                        expected[c] += p * TE.ToDouble(dO[qRow + c]);
                    }
                }
                for (int c = 0; c < d; c++)
                {
                    double error = gradient[kRow + c] - expected[c];
                    diff += double.IsFinite(error) ? error * error : double.PositiveInfinity;
                    norm += expected[c] * expected[c];
                }
            }
            double tflops = 2.5 * Flops(heads, sequence) / (timing.MedianMs * 1e-3) / 1e12;
            return new AttentionTiming(Name, heads, sequence, d, info.Causal, timing, tflops, Math.Sqrt(diff / norm), null, Backward: true);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            return Failed(heads, sequence, e, backward: true);
        }
    }

    /// <summary>The row of a timing that threw: no figures, the exception's type and message.</summary>
    private AttentionTiming Failed(int heads, int sequence, Exception e, bool backward)
    {
        var none = new TimingResult(double.NaN, double.NaN, double.NaN, double.NaN, double.NaN, 0, 0);
        return new AttentionTiming(Name, heads, sequence, info.HeadDim, info.Causal, none, double.NaN, double.NaN, $"{e.GetType().Name}: {e.Message}", backward);
    }

    /// <summary>A one-rank ring: running state to "no key seen", one step over the whole sequence, finalize.</summary>
    private void Forward(CudaStream stream, Buffers run, int heads, int kvHeads, int sequence)
    {
        var shard = SequenceShard.For(info.Layout, sequence, 1, 0);
        AttentionLaunch.InitializeRunningState(run.ORun, run.LRun);
        TKernel.LaunchStep(stream, run.Q, run.K, run.V, run.ORun, run.LRun, heads, kvHeads, sequence, sequence, shard, shard);
        TKernel.LaunchFinalize(stream, run.ORun, run.LRun, run.O, run.Lse, heads, sequence);
    }

    /// <summary>softmax(q·Kᵀ·scale [causal: keys ≤ i])·V and the natural log-sum-exp, in float64, for query i of head h.</summary>
    private (double[] Output, double Lse) Reference(T[] q, T[] k, T[] v, int h, int heads, int kvHeads, int i, int sequence)
    {
        int d = info.HeadDim, kvHead = h / (heads / kvHeads);
        int keys = info.Causal ? i + 1 : sequence;
        var logits = new double[keys];
        double max = double.NegativeInfinity;
        long qRow = ((long)h * sequence + i) * d;
        for (int j = 0; j < keys; j++)
        {
            long kRow = ((long)kvHead * sequence + j) * d;
            double dot = 0;
            for (int c = 0; c < d; c++)
            {
                dot += TE.ToDouble(q[qRow + c]) * TE.ToDouble(k[kRow + c]);
            }
            logits[j] = dot * info.Scale;
            max = Math.Max(max, logits[j]);
        }
        var output = new double[d];
        double sum = 0;
        for (int j = 0; j < keys; j++)
        {
            double p = Math.Exp(logits[j] - max);
            sum += p;
            long vRow = ((long)kvHead * sequence + j) * d;
            for (int c = 0; c < d; c++)
            {
                output[c] += p * TE.ToDouble(v[vRow + c]);
            }
        }
        for (int c = 0; c < d; c++)
        {
            output[c] /= sum;
        }
        return (output, max + Math.Log(sum));
    }

    /// <summary>The device buffers of one forward.</summary>
    private sealed class Buffers : IDisposable
    {
        public Buffers(T[] q, T[] k, T[] v, int heads, int sequence, int d)
        {
            Q = Upload(q);
            K = Upload(k);
            V = Upload(v);
            ORun = new DeviceBuffer<float>(heads * sequence * d);
            LRun = new DeviceBuffer<float>(heads * sequence);
            O = new DeviceBuffer<T>(heads * sequence * d);
            Lse = new DeviceBuffer<float>(heads * sequence);
        }

        public DeviceBuffer<T> Q { get; }

        public DeviceBuffer<T> K { get; }

        public DeviceBuffer<T> V { get; }

        public DeviceBuffer<float> ORun { get; }

        public DeviceBuffer<float> LRun { get; }

        public DeviceBuffer<T> O { get; }

        public DeviceBuffer<float> Lse { get; }

        public void Dispose()
        {
            foreach (IDisposable buffer in new IDisposable[] { Q, K, V, ORun, LRun, O, Lse })
            {
                buffer.Dispose();
            }
        }

        private static DeviceBuffer<TBuffer> Upload<TBuffer>(TBuffer[] host)
            where TBuffer : unmanaged
        {
            var buffer = new DeviceBuffer<TBuffer>(host.Length);
            buffer.CopyFrom(host);
            return buffer;
        }
    }
}
