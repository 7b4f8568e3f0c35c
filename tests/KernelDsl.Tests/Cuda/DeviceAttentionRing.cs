using System;
using System.Globalization;
using KernelDsl.Cuda;
using KernelDsl.Ring;
using KernelDsl.Tests.Ring;
using Xunit;
using Xunit.Abstractions;

namespace KernelDsl.Tests.Cuda;

/// <summary>
/// A ring of P ranks played on one device through a generated kernel's <c>LaunchStep</c> and <c>LaunchFinalize</c>:
/// each rank's Q shard against every rank's K/V shard in ring order, then finalize; every rank's O and L compared
/// with single-device float64 attention at the global positions its rows hold (outputs poisoned with NaN first).
/// </summary>
public static class DeviceAttentionRing
{
    public delegate void Step<T>(
        CudaStream stream, DeviceBuffer<T> q, DeviceBuffer<T> k, DeviceBuffer<T> v, DeviceBuffer<float> oRun, DeviceBuffer<float> lRun,
        int heads, int kvHeads, int queries, int keys, SequenceShard queryShard, SequenceShard keyShard)
        where T : unmanaged;

    public delegate void Finalize<T>(
        CudaStream stream, DeviceBuffer<float> oRun, DeviceBuffer<float> lRun, DeviceBuffer<T> o, DeviceBuffer<float> lse, int heads, int queries)
        where T : unmanaged;

    public sealed record Kernel<T>(AttentionInfo Info, Step<T> Step, Finalize<T> Finalize, Func<float, T> Narrow, Func<T, float> Widen)
        where T : unmanaged;

    /// <summary>Plays a ring of <paramref name="ranks"/> ranks on <paramref name="device"/> and compares every rank's O and L with float64.</summary>
    public static void Play<T>(
        ITestOutputHelper output, CudaDevice device, Kernel<T> kernel, int ranks, int sequenceLength, int heads, int kvHeads, RingLayout layout,
        double outputTolerance, double lseTolerance, float inputScale = 1f)
        where T : unmanaged
    {
        var info = kernel.Info;
        int d = info.HeadDim;
        int seed = StableSeed.Of(string.Create(CultureInfo.InvariantCulture, $"{info.Name} {ranks} {sequenceLength} {heads} {kvHeads} {layout} {inputScale}"));
        var random = new Random(seed);
        float[] q = Array.ConvertAll(Values(random, heads * sequenceLength * d, inputScale, kernel.Narrow), x => kernel.Widen(x));
        float[] k = Array.ConvertAll(Values(random, kvHeads * sequenceLength * d, 1f, kernel.Narrow), x => kernel.Widen(x));
        float[] v = Array.ConvertAll(Values(random, kvHeads * sequenceLength * d, 1f, kernel.Narrow), x => kernel.Widen(x));
        var (expectedO, expectedLse) = AttentionReference.Full(q, k, v, heads, kvHeads, sequenceLength, d, info.Causal, info.Scale);

        using var stream = new CudaStream(device);
        double diffO = 0, normO = 0, diffL = 0, normL = 0;
        for (int rank = 0; rank < ranks; rank++)
        {
            var queryShard = SequenceShard.For(layout, sequenceLength, ranks, rank);
            int queries = queryShard.LocalLength;
            using var deviceQ = DeviceBuffers.Upload(device, Gather(q, heads, sequenceLength, d, queryShard, kernel.Narrow));
            using var oRun = new DeviceBuffer<float>(heads * queries * d, device);
            using var lRun = new DeviceBuffer<float>(heads * queries, device);
            AttentionLaunch.InitializeRunningState(oRun, lRun);
            for (int step = 0; step < ranks; step++)
            {
                var keyShard = SequenceShard.For(layout, sequenceLength, ranks, (rank - step + ranks) % ranks);
                using var deviceK = DeviceBuffers.Upload(device, Gather(k, kvHeads, sequenceLength, d, keyShard, kernel.Narrow));
                using var deviceV = DeviceBuffers.Upload(device, Gather(v, kvHeads, sequenceLength, d, keyShard, kernel.Narrow));
                kernel.Step(stream, deviceQ, deviceK, deviceV, oRun, lRun, heads, kvHeads, queries, keyShard.LocalLength, queryShard, keyShard);
                stream.Synchronize();  // the K/V buffers are freed at the end of the iteration
            }
            using var o = new DeviceBuffer<T>(heads * queries * d, device);
            using var lse = new DeviceBuffer<float>(heads * queries, device);
            o.Fill(kernel.Narrow(float.NaN));
            lse.Fill(float.NaN);
            kernel.Finalize(stream, oRun, lRun, o, lse, heads, queries);
            stream.Synchronize();
            var outputs = new T[o.Length];
            var lses = new float[lse.Length];
            o.CopyTo(outputs);
            lse.CopyTo(lses);

            for (int head = 0; head < heads; head++)
            {
                for (int i = 0; i < queries; i++)
                {
                    int local = head * queries + i, global = head * sequenceLength + queryShard.GlobalPosition(i);
                    Assert.True(float.IsFinite(lses[local]), $"{info.Name} rank {rank} L[{head},{i}] = {lses[local]} (seed {seed})");
                    diffL += Math.Pow(lses[local] - expectedLse[global], 2);
                    normL += expectedLse[global] * expectedLse[global];
                    for (int c = 0; c < d; c++)
                    {
                        float got = kernel.Widen(outputs[local * d + c]);
                        Assert.True(float.IsFinite(got), $"{info.Name} rank {rank} O[{head},{i},{c}] = {got} (seed {seed})");
                        diffO += Math.Pow(got - expectedO[global * d + c], 2);
                        normO += expectedO[global * d + c] * expectedO[global * d + c];
                    }
                }
            }
        }
        double errorO = Math.Sqrt(diffO / normO), errorL = Math.Sqrt(diffL / Math.Max(normL, double.Epsilon));
        string what = string.Create(CultureInfo.InvariantCulture,
            $"{info.Name} P={ranks} S={sequenceLength} heads={heads}/{kvHeads} {layout} q×{inputScale} seed {seed}: O error {errorO:E2}, L error {errorL:E2}");
        output.WriteLine(what);
        Assert.True(errorO <= outputTolerance, what + $" (O tolerance {outputTolerance:E0})");
        Assert.True(errorL <= lseTolerance, what + $" (L tolerance {lseTolerance:E0})");
    }

    public static T[] Values<T>(Random random, int count, float scale, Func<float, T> narrow)
    {
        var values = new T[count];
        for (int i = 0; i < count; i++)
        {
            values[i] = narrow(scale * (random.NextSingle() * 2 - 1));
        }
        return values;
    }

    /// <summary>The rank's rows of a global [heads, S, d] tensor: local row i of each head is global row GlobalPosition(i).</summary>
    public static T[] Gather<T>(float[] global, int heads, int sequenceLength, int d, SequenceShard shard, Func<float, T> narrow)
    {
        var local = new T[heads * shard.LocalLength * d];
        for (int head = 0; head < heads; head++)
        {
            for (int i = 0; i < shard.LocalLength; i++)
            {
                int from = (head * sequenceLength + shard.GlobalPosition(i)) * d, to = (head * shard.LocalLength + i) * d;
                for (int c = 0; c < d; c++)
                {
                    local[to + c] = narrow(global[from + c]);
                }
            }
        }
        return local;
    }

}
