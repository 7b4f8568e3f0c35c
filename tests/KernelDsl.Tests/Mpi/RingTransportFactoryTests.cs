using System;
using System.Linq;
using KernelDsl.Ring;
using Xunit;

namespace KernelDsl.Tests.Mpi;

/// <summary>Transport selection: explicit, and each transport's rank model enforced before anything is initialised.</summary>
public sealed class RingTransportFactoryTests
{
    [Fact]
    public void InProcessGivesEveryRankOfTheRing()
    {
        var ranks = RingTransportFactory.CreateLocalRanks(RingTransport.InProcess, 3, TimeSpan.FromSeconds(5));
        Assert.Equal([0, 1, 2], ranks.Select(rank => rank.Rank));
        Assert.All(ranks, rank => Assert.Equal(3, rank.Size));
        Assert.All(ranks, rank => Assert.Equal(TimeSpan.FromSeconds(5), rank.Timeout));
        Assert.Equal(InProcessRing.DefaultTimeout, RingTransportFactory.CreateLocalRanks(RingTransport.InProcess).Single().Timeout);
    }

    [Theory]
    [InlineData(RingTransport.Mpi)]
    [InlineData(RingTransport.Nccl)]
    public void OutOfProcessTransportsRunOneRankPerProcess(RingTransport transport)
    {
        var error = Assert.Throws<ArgumentException>(() => RingTransportFactory.CreateLocalRanks(transport, inProcessRanks: 4));
        Assert.Contains("mpirun -np", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AnUnknownTransportIsRejected() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => RingTransportFactory.CreateLocalRanks((RingTransport)7));
}
