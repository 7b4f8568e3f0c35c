using System;
using System.Globalization;
using KernelDsl.Cuda;
using KernelDsl.Ring;
using KernelDsl.Tests.Ring;
using Xunit;
using Xunit.Abstractions;

namespace KernelDsl.Tests.Cuda;

/// <summary>
/// The backward pass of a ring of P ranks played on one device through a generated kernel's <c>LaunchBackwardDelta</c>,
/// <c>LaunchBackwardStep</c> and <c>LaunchFinalizeGradient</c>: each rank's D from its O and dO, then its queries against
/// every rank's K/V shard in ring order, adding into the rank's fp32 dQ and each shard's fp32 dK and dV (one accumulator
/// per shard, as the ring carries it), then the gradients in the element type (poisoned with NaN first). dQ, dK and dV
/// are compared, every element, with float64 analytic gradients at the global positions (<see cref="AttentionBackwardReference"/>);
/// O and L come from float64 attention, O rounded to the element type as a forward pass would store it.
/// </summary>
public static class DeviceBackwardRing
{
    public delegate void Delta<T>(CudaStream stream, DeviceBuffer<T> o, DeviceBuffer<T> dO, DeviceBuffer<float> delta, int heads, int queries)
        where T : unmanaged;

    public delegate void Step<T>(
        CudaStream stream, DeviceBuffer<T> q, DeviceBuffer<T> k, DeviceBuffer<T> v, DeviceBuffer<T> dO, DeviceBuffer<float> lse, DeviceBuffer<float> delta,
        DeviceBuffer<float> dQ, DeviceBuffer<float> dK, DeviceBuffer<float> dV, int heads, int kvHeads, int queries, int keys,
        SequenceShard queryShard, SequenceShard keyShard)
        where T : unmanaged;

    public delegate void Gradient<T>(CudaStream stream, DeviceBuffer<float> accumulator, DeviceBuffer<T> gradient, int count)
        where T : unmanaged;

    public sealed record Kernel<T>(AttentionInfo Info, Delta<T> Delta, Step<T> Step, Gradient<T> Gradient, Func<float, T> Narrow, Func<T, float> Widen)
        where T : unmanaged;

    /// <summary>Plays the backward ring and returns the norm-wise relative errors of dQ, dK and dV against float64.</summary>
    public static (double DQ, double DK, double DV) Play<T>(
        ITestOutputHelper output, CudaDevice device, Kernel<T> kernel, int ranks, int sequenceLength, int heads, int kvHeads, RingLayout layout)
        where T : unmanaged
    {
        var info = kernel.Info;
        int d = info.HeadDim;
        int seed = StableSeed.Of(string.Create(CultureInfo.InvariantCulture, $"backward {info.Name} {ranks} {sequenceLength} {heads} {kvHeads} {layout}"));
        var random = new Random(seed);
        float[] q = Rounded(random, heads * sequenceLength * d, kernel);
        float[] k = Rounded(random, kvHeads * sequenceLength * d, kernel);
        float[] v = Rounded(random, kvHeads * sequenceLength * d, kernel);
        float[] dO = Rounded(random, heads * sequenceLength * d, kernel);
        var (o, lse) = AttentionReference.Full(q, k, v, heads, kvHeads, sequenceLength, d, info.Causal, info.Scale);
        float[] oStored = Array.ConvertAll(o, x => kernel.Widen(kernel.Narrow((float)x)));
        var (expectedDQ, expectedDK, expectedDV) = AttentionBackwardReference.Gradients(
            Array.ConvertAll(q, x => (double)x), Array.ConvertAll(k, x => (double)x), Array.ConvertAll(v, x => (double)x),
            Array.ConvertAll(dO, x => (double)x), heads, kvHeads, sequenceLength, d, info.Causal, info.Scale);

        using var stream = new CudaStream(device);
        var shards = new SequenceShard[ranks];
        var dK = new DeviceBuffer<float>[ranks];
        var dV = new DeviceBuffer<float>[ranks];
        var gotDQ = new float[ranks][];
        try
        {
            for (int rank = 0; rank < ranks; rank++)
            {
                shards[rank] = SequenceShard.For(layout, sequenceLength, ranks, rank);
                dK[rank] = new DeviceBuffer<float>(kvHeads * shards[rank].LocalLength * d, device);
                dV[rank] = new DeviceBuffer<float>(kvHeads * shards[rank].LocalLength * d, device);
                dK[rank].Fill(0f);
                dV[rank].Fill(0f);
            }
            for (int rank = 0; rank < ranks; rank++)
            {
                var queryShard = shards[rank];
                int queries = queryShard.LocalLength;
                using var deviceQ = DeviceBuffers.Upload(device, DeviceAttentionRing.Gather(q, heads, sequenceLength, d, queryShard, kernel.Narrow));
                using var deviceDO = DeviceBuffers.Upload(device, DeviceAttentionRing.Gather(dO, heads, sequenceLength, d, queryShard, kernel.Narrow));
                using var deviceO = DeviceBuffers.Upload(device, DeviceAttentionRing.Gather(oStored, heads, sequenceLength, d, queryShard, kernel.Narrow));
                using var deviceLse = DeviceBuffers.Upload(device, DeviceAttentionRing.Gather(Array.ConvertAll(lse, x => (float)x), heads, sequenceLength, 1, queryShard, x => x));
                using var delta = new DeviceBuffer<float>(heads * queries, device);
                using var dQ = new DeviceBuffer<float>(heads * queries * d, device);
                delta.Fill(float.NaN);
                dQ.Fill(0f);
                kernel.Delta(stream, deviceO, deviceDO, delta, heads, queries);
                for (int step = 0; step < ranks; step++)
                {
                    int source = (rank - step + ranks) % ranks;
                    var keyShard = shards[source];
                    using var deviceK = DeviceBuffers.Upload(device, DeviceAttentionRing.Gather(k, kvHeads, sequenceLength, d, keyShard, kernel.Narrow));
                    using var deviceV = DeviceBuffers.Upload(device, DeviceAttentionRing.Gather(v, kvHeads, sequenceLength, d, keyShard, kernel.Narrow));
                    kernel.Step(stream, deviceQ, deviceK, deviceV, deviceDO, deviceLse, delta, dQ, dK[source], dV[source],
                        heads, kvHeads, queries, keyShard.LocalLength, queryShard, keyShard);
                    stream.Synchronize();  // the K/V buffers are freed at the end of the iteration
                }
                gotDQ[rank] = Finalize(stream, kernel, dQ);
            }

            double diffQ = 0, normQ = 0, diffK = 0, normK = 0, diffV = 0, normV = 0;
            for (int rank = 0; rank < ranks; rank++)
            {
                Accumulate(gotDQ[rank], expectedDQ, heads, sequenceLength, d, shards[rank], ref diffQ, ref normQ, $"{info.Name} rank {rank} dQ (seed {seed})");
                Accumulate(Finalize(stream, kernel, dK[rank]), expectedDK, kvHeads, sequenceLength, d, shards[rank], ref diffK, ref normK, $"{info.Name} rank {rank} dK (seed {seed})");
                Accumulate(Finalize(stream, kernel, dV[rank]), expectedDV, kvHeads, sequenceLength, d, shards[rank], ref diffV, ref normV, $"{info.Name} rank {rank} dV (seed {seed})");
            }
            var errors = (Math.Sqrt(diffQ / normQ), Math.Sqrt(diffK / normK), Math.Sqrt(diffV / normV));
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{info.Name} backward P={ranks} S={sequenceLength} heads={heads}/{kvHeads} {layout} seed {seed}: dQ {errors.Item1:E2}, dK {errors.Item2:E2}, dV {errors.Item3:E2}"));
            return errors;
        }
        finally
        {
            foreach (var buffer in dK) buffer?.Dispose();
            foreach (var buffer in dV) buffer?.Dispose();
        }
    }

    /// <summary>The gradient of an fp32 accumulator through <c>LaunchFinalizeGradient</c>, widened back to float.</summary>
    private static float[] Finalize<T>(CudaStream stream, Kernel<T> kernel, DeviceBuffer<float> accumulator)
        where T : unmanaged
    {
        using var gradient = new DeviceBuffer<T>(accumulator.Length, stream.Device);
        gradient.Fill(kernel.Narrow(float.NaN));
        kernel.Gradient(stream, accumulator, gradient, accumulator.Length);
        stream.Synchronize();
        var values = new T[gradient.Length];
        gradient.CopyTo(values);
        return Array.ConvertAll(values, x => kernel.Widen(x));
    }

    private static void Accumulate(
        float[] got, double[] expected, int heads, int sequenceLength, int d, SequenceShard shard, ref double diff, ref double norm, string what)
    {
        for (int head = 0; head < heads; head++)
        {
            for (int i = 0; i < shard.LocalLength; i++)
            {
                int local = (head * shard.LocalLength + i) * d, global = (head * sequenceLength + shard.GlobalPosition(i)) * d;
                for (int c = 0; c < d; c++)
                {
                    Assert.True(float.IsFinite(got[local + c]), $"{what}: [{head},{i},{c}] = {got[local + c]}");
                    diff += Math.Pow(got[local + c] - expected[global + c], 2);
                    norm += expected[global + c] * expected[global + c];
                }
            }
        }
    }

    private static float[] Rounded<T>(Random random, int count, Kernel<T> kernel)
        where T : unmanaged
        => Array.ConvertAll(DeviceAttentionRing.Values(random, count, 1f, kernel.Narrow), x => kernel.Widen(x));
}
