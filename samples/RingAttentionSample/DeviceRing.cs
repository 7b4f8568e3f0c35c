using System;
using KernelDsl;
using KernelDsl.Cuda;

namespace RingAttentionSample;

/// <summary>
/// The same ring through the generated CUDA kernels on one device (a GPU, or the CPU emulator): every rank's Q shard
/// against every rank's K/V shard in ring order with <c>LaunchStep</c>, then <c>LaunchFinalize</c>. On a real ring each
/// rank is its own device and the K/V arrive over the link; here the ranks take turns, which is the same arithmetic.
/// </summary>
internal static class DeviceRing
{
    public static (BFloat16[][] O, float[][] Lse) Run(CudaDevice device, Workload work)
    {
        var o = new BFloat16[work.Ranks][];
        var lse = new float[work.Ranks][];
        using var stream = new CudaStream(device);
        for (int rank = 0; rank < work.Ranks; rank++)
        {
            int rows = work.Shards[rank].LocalLength, d = work.HeadDim;
            using var q = Upload(device, work.LocalQ[rank]);
            using var oRun = new DeviceBuffer<float>(work.Heads * rows * d, device);
            using var lRun = new DeviceBuffer<float>(work.Heads * rows, device);
            AttentionLaunch.InitializeRunningState(oRun, lRun);
            for (int step = 0; step < work.Ranks; step++)
            {
                int source = (rank - step + work.Ranks) % work.Ranks;
                using var k = Upload(device, work.LocalK[source]);
                using var v = Upload(device, work.LocalV[source]);
                LongContext.LaunchStep(stream, q, k, v, oRun, lRun, work.Heads, work.KvHeads, rows, work.Shards[source].LocalLength,
                    work.Shards[rank], work.Shards[source]);
                stream.Synchronize();  // k and v are freed at the end of the iteration
            }

            using var output = new DeviceBuffer<BFloat16>(work.Heads * rows * d, device);
            using var outputLse = new DeviceBuffer<float>(work.Heads * rows, device);
            LongContext.LaunchFinalize(stream, oRun, lRun, output, outputLse, work.Heads, rows);
            o[rank] = new BFloat16[output.Length];
            lse[rank] = new float[outputLse.Length];
            output.CopyTo(o[rank], stream);
            outputLse.CopyTo(lse[rank], stream);
        }

        return (o, lse);
    }

    private static DeviceBuffer<T> Upload<T>(CudaDevice device, T[] host)
        where T : unmanaged
    {
        var buffer = new DeviceBuffer<T>(host.Length, device);
        buffer.CopyFrom(host);
        return buffer;
    }
}
