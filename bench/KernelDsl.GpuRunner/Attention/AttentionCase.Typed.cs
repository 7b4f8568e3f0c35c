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

    public override AttentionBackwardCheck CheckBackward(CudaStream stream, int heads, int kvHeads, int sequence, int seed)
    {
        int d = info.HeadDim;
        try
        {
            T[] q = HostData.Matrix<T, TE>(heads * sequence, d, d, 0, seed);
            T[] k = HostData.Matrix<T, TE>(kvHeads * sequence, d, d, 0, seed + 1);
            T[] v = HostData.Matrix<T, TE>(kvHeads * sequence, d, d, 0, seed + 2);
            T[] dO = HostData.Matrix<T, TE>(heads * sequence, d, d, 0, seed + 4);
            using var run = new Buffers(q, k, v, heads, sequence, d);
            using var deviceDO = new DeviceBuffer<T>(dO.Length);
            using var delta = new DeviceBuffer<float>(heads * sequence);
            using var dQ = new DeviceBuffer<float>(q.Length);
            using var dK = new DeviceBuffer<float>(k.Length);
            using var dV = new DeviceBuffer<float>(v.Length);
            using var dQOut = new DeviceBuffer<T>(q.Length);
            using var dKOut = new DeviceBuffer<T>(k.Length);
            using var dVOut = new DeviceBuffer<T>(v.Length);
            deviceDO.CopyFrom(dO);
            foreach (var gradient in new[] { dQOut, dKOut, dVOut })
            {
                gradient.Fill(TE.NaN);
            }
            dQ.Fill(0f);
            dK.Fill(0f);
            dV.Fill(0f);
            var shard = SequenceShard.For(info.Layout, sequence, 1, 0);
            Forward(stream, run, heads, kvHeads, sequence);
            TKernel.LaunchBackwardDelta(stream, run.O, deviceDO, delta, heads, sequence);
            TKernel.LaunchBackwardStep(stream, run.Q, run.K, run.V, deviceDO, run.Lse, delta, dQ, dK, dV, heads, kvHeads, sequence, sequence, shard, shard);
            TKernel.LaunchFinalizeGradient(stream, dQ, dQOut, q.Length);
            TKernel.LaunchFinalizeGradient(stream, dK, dKOut, k.Length);
            TKernel.LaunchFinalizeGradient(stream, dV, dVOut, v.Length);
            stream.Synchronize();
            T[] Read(DeviceBuffer<T> buffer)
            {
                var host = new T[buffer.Length];
                buffer.CopyTo(host);
                return host;
            }

            var expected = ReferenceGradients(q, k, v, dO, heads, kvHeads, sequence);
            long nans = 0;
            double Error(T[] actual, double[] reference)
            {
                double diff = 0, norm = 0;
                for (long i = 0; i < actual.Length; i++)
                {
                    nans += TE.IsNaN(actual[i]) ? 1 : 0;
                    double e = TE.ToDouble(actual[i]) - reference[i];
                    diff += double.IsFinite(e) ? e * e : double.PositiveInfinity;
                    norm += reference[i] * reference[i];
                }
                return Math.Sqrt(diff / Math.Max(norm, 1e-300));
            }
            return new AttentionBackwardCheck(Name, heads, kvHeads, sequence, seed,
                Error(Read(dQOut), expected.DQ), Error(Read(dKOut), expected.DK), Error(Read(dVOut), expected.DV), TE.Tolerance, nans, null);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            return new AttentionBackwardCheck(Name, heads, kvHeads, sequence, seed, double.NaN, double.NaN, double.NaN, TE.Tolerance, 0, $"{e.GetType().Name}: {e.Message}");
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

    /// <summary>
    /// The exact gradients in float64 (FlashAttention-2's backward without rounding): with P = softmax(S·scale) from the
    /// float64 forward, O = P·V and D = rowsum(dO ∘ O): dS = P ∘ (dO·Vᵀ − D), dQ = scale·dS·K, dK = scale·dSᵀ·Q,
    /// dV = Pᵀ·dO, dK and dV summed over the query heads of each K/V head.
    /// </summary>
    private (double[] DQ, double[] DK, double[] DV) ReferenceGradients(T[] q, T[] k, T[] v, T[] dO, int heads, int kvHeads, int sequence)
    {
        int d = info.HeadDim, group = heads / kvHeads;
        var lse = new double[heads * sequence];
        var rowDelta = new double[heads * sequence];
        Parallel.For(0, heads * sequence, row =>
        {
            var (output, l) = Reference(q, k, v, row / sequence, heads, kvHeads, row % sequence, sequence);
            lse[row] = l;
            double sum = 0;
            for (int c = 0; c < d; c++)
            {
                sum += output[c] * TE.ToDouble(dO[(long)row * d + c]);
            }
            rowDelta[row] = sum;
        });
        double Dot(T[] a, long aRow, T[] b, long bRow)
        {
            double sum = 0;
            for (int c = 0; c < d; c++)
            {
                sum += TE.ToDouble(a[aRow + c]) * TE.ToDouble(b[bRow + c]);
            }
            return sum;
        }
        // P and dS of query row (h, i) and key j of its K/V head, 0 where the causal mask hides the key.
        (double P, double DS) Entry(int h, int i, int j)
        {
            if (info.Causal && j > i)
            {
                return (0, 0);
            }
            long qRow = ((long)h * sequence + i) * d, kvRow = ((long)(h / group) * sequence + j) * d;
            double p = Math.Exp(Dot(q, qRow, k, kvRow) * info.Scale - lse[h * sequence + i]);
            return (p, p * (Dot(dO, qRow, v, kvRow) - rowDelta[h * sequence + i]));
        }

        var dQ = new double[q.Length];
        var dK = new double[k.Length];
        var dV = new double[v.Length];
        Parallel.For(0, heads * sequence, row =>
        {
            int h = row / sequence, i = row % sequence;
            for (int j = 0; j < sequence; j++)
            {
                double ds = Entry(h, i, j).DS * info.Scale;
                long kvRow = ((long)(h / group) * sequence + j) * d;
                for (int c = 0; c < d; c++)
                {
                    dQ[(long)row * d + c] += ds * TE.ToDouble(k[kvRow + c]);
                }
            }
        });
        Parallel.For(0, kvHeads * sequence, row =>
        {
            int kvHead = row / sequence, j = row % sequence;
            for (int h = kvHead * group; h < (kvHead + 1) * group; h++)
            {
                for (int i = 0; i < sequence; i++)
                {
                    var (p, ds) = Entry(h, i, j);
                    long qRow = ((long)h * sequence + i) * d;
                    for (int c = 0; c < d; c++)
                    {
                        dK[(long)row * d + c] += ds * info.Scale * TE.ToDouble(q[qRow + c]);
                        dV[(long)row * d + c] += p * TE.ToDouble(dO[qRow + c]);
                    }
                }
            }
        });
        return (dQ, dK, dV);
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
