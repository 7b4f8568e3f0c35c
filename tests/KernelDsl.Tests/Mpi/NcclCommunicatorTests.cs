using System;
using System.IO;
using System.Linq;
using KernelDsl.Cuda;
using KernelDsl.Ring;
using Xunit;

namespace KernelDsl.Tests.Mpi;

/// <summary>The NCCL transport: a clear error where NCCL is absent (CI), and a ring of one through the GPU where it is present.</summary>
public sealed class NcclCommunicatorTests
{
    [NoNcclFact]
    public void WithoutNcclEveryWayInSaysWhatIsMissing()
    {
        Assert.False(NcclCommunicator.IsAvailable);
        var error = Assert.Throws<NcclUnavailableException>(() => NcclCommunicator.CreateWithIdFile(0, 1, Path.Combine(Path.GetTempPath(), "kerneldsl-unused.id")));
        Assert.Contains("libnccl.so.2", error.Message, StringComparison.Ordinal);
        Assert.Contains("RingTransport.Mpi", error.Message, StringComparison.Ordinal);
        // Checked before MPI is touched, so neither needs an MPI job to say so.
        Assert.Equal(error.Message, Assert.Throws<NcclUnavailableException>(() => NcclCommunicator.CreateOverMpi()).Message);
        Assert.Equal(error.Message, Assert.Throws<NcclUnavailableException>(() => RingTransportFactory.CreateLocalRanks(RingTransport.Nccl)).Message);
    }

    [NcclFact]
    public void ARingOfOneExchangesWithItselfThroughTheGpu()
    {
        string idFile = Path.Combine(Path.GetTempPath(), $"kerneldsl-nccl-{Guid.NewGuid():N}.id");
        try
        {
            using var nccl = NcclCommunicator.CreateWithIdFile(0, 1, idFile, TimeSpan.FromSeconds(30));

            // Host memory, staged through device buffers (the IRingCommunicator path the CPU driver uses).
            byte[] send = Enumerable.Range(0, 1000).Select(i => (byte)(i * 7 + 1)).ToArray();
            byte[] receive = new byte[send.Length];
            nccl.StartExchange(send, receive).Wait();
            Assert.Equal(send, receive);

            // Device memory, ordered after a producer stream and consumed by it without a host wait.
            float[] values = Enumerable.Range(0, 256).Select(i => i + 0.5f).ToArray();
            using var outgoing = new DeviceBuffer<float>(values.Length);
            using var incoming = new DeviceBuffer<float>(values.Length);
            using var compute = new CudaStream();
            outgoing.CopyFrom(values);
            incoming.Fill(-1f);
            var transfer = nccl.StartExchange(outgoing, 200, incoming, 200, producer: compute);
            transfer.ScheduleWait(compute);
            compute.Synchronize();
            transfer.Wait();
            var landed = new float[values.Length];
            incoming.CopyTo(landed);
            Assert.Equal(values.Take(200), landed.Take(200));
            Assert.All(landed.Skip(200), value => Assert.Equal(-1f, value));
        }
        finally
        {
            File.Delete(idFile);
        }
    }
}
