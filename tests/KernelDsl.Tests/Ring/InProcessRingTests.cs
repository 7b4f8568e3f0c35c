using System;
using System.Diagnostics;
using System.Linq;
using System.Threading;
using KernelDsl.Ring;
using Xunit;

namespace KernelDsl.Tests.Ring;

/// <summary>The in-process communicator: correct neighbours and bytes, non-blocking posts, failures and timeouts that reach every rank.</summary>
public sealed class InProcessRingTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(5)]
    public void EachRankReceivesWhatTheRankBeforeItSent(int ranks)
    {
        const int rounds = 4;
        var ring = InProcessRing.Create(ranks);
        Assert.Equal(Enumerable.Range(0, ranks), ring.Select(communicator => communicator.Rank));
        Assert.All(ring, communicator => Assert.Equal(ranks, communicator.Size));
        Assert.All(ring, communicator => Assert.Equal(InProcessRing.DefaultTimeout, communicator.Timeout));
        InProcessRing.RunRanks(ring, communicator =>
        {
            int rank = communicator.Rank;
            int previous = (rank - 1 + ranks) % ranks;
            for (int round = 0; round < rounds; round++)
            {
                // Lengths that differ per sender, as uneven shards do: rank r sends r + round + 1 bytes.
                byte[] send = Enumerable.Repeat((byte)(16 * rank + round), rank + round + 1).ToArray();
                byte[] receive = new byte[previous + round + 1];
                var transfer = communicator.StartExchange(send, receive);
                Assert.Equal(round, transfer.Sequence);
                Assert.Equal(rank, transfer.Rank);
                transfer.Wait();
                Assert.True(transfer.IsCompleted);
                Assert.All(receive, value => Assert.Equal((byte)(16 * previous + round), value));
            }
        });
    }

    [Fact]
    public void PostingDoesNotWaitForTheTransfer()
    {
        // The link takes a second for the 1 KiB; posting must return before it delivers (no wall-clock bound on
        // posting itself, which a loaded 2-core machine can stretch), and the wait must then take the link's time.
        var delay = TimeSpan.FromSeconds(1);
        var ring = InProcessRing.Create(2, linkBytesPerSecond: 1024);
        var completedAtPosting = new bool[2];
        var total = new TimeSpan[2];
        InProcessRing.RunRanks(ring, communicator =>
        {
            var start = Stopwatch.GetTimestamp();
            var transfer = communicator.StartExchange(new byte[1024], new byte[1024]);
            completedAtPosting[communicator.Rank] = transfer.IsCompleted;
            transfer.Wait();
            total[communicator.Rank] = Stopwatch.GetElapsedTime(start);
        });
        Assert.All(completedAtPosting, Assert.False);
        Assert.All(total, time => Assert.True(time >= delay * 0.9, $"the exchange took only {time.TotalMilliseconds} ms"));
    }

    [Fact]
    public void TheEmulatedLinkChargesBytesNotMessages()
    {
        // 64 KiB/s: a 64-byte header (what the handshake sends) takes 1 ms, 32 KiB half a second.
        var ring = InProcessRing.Create(2, linkBytesPerSecond: 64 * 1024);
        var small = new TimeSpan[2];
        var large = new TimeSpan[2];
        InProcessRing.RunRanks(ring, communicator =>
        {
            var start = Stopwatch.GetTimestamp();
            communicator.StartExchange(new byte[64], new byte[64]).Wait();
            small[communicator.Rank] = Stopwatch.GetElapsedTime(start);
            start = Stopwatch.GetTimestamp();
            communicator.StartExchange(new byte[32 * 1024], new byte[32 * 1024]).Wait();
            large[communicator.Rank] = Stopwatch.GetElapsedTime(start);
        });
        Assert.All(large, time => Assert.True(time >= TimeSpan.FromMilliseconds(450), $"32 KiB took only {time.TotalMilliseconds} ms"));
        Assert.All(small, time => Assert.True(time < TimeSpan.FromMilliseconds(250), $"64 bytes took {time.TotalMilliseconds} ms"));
    }

    [Fact]
    public void AFailingRankFailsEveryOtherRankPromptly()
    {
        var timeout = TimeSpan.FromSeconds(20);
        var ring = InProcessRing.Create(4, timeout);
        var started = Stopwatch.GetTimestamp();
        var aggregate = Assert.Throws<AggregateException>(() => InProcessRing.RunRanks(ring, communicator =>
        {
            if (communicator.Rank == 2)
            {
                Thread.Sleep(50);
                throw new InvalidOperationException("rank 2 broke");
            }
            for (int round = 0; round < 3; round++)
            {
                communicator.StartExchange(new byte[8], new byte[8]).Wait();
            }
        }));
        var elapsed = Stopwatch.GetElapsedTime(started);
        Assert.True(elapsed < TimeSpan.FromSeconds(5), $"took {elapsed.TotalSeconds} s, the failure did not propagate");
        Assert.Equal(4, aggregate.InnerExceptions.Count);
        Assert.Equal("rank 2 broke", Assert.IsType<InvalidOperationException>(aggregate.InnerExceptions[0]).Message);
        foreach (var exception in aggregate.InnerExceptions.Skip(1))
        {
            var failure = Assert.IsType<RingCommunicationException>(exception);
            Assert.NotEqual(2, failure.Rank);
            Assert.Same(aggregate.InnerExceptions[0], failure.InnerException);
            Assert.Contains("rank 2", failure.Message);
        }
        // Once failed, the ring refuses new exchanges.
        var late = Assert.Throws<RingCommunicationException>(() => ring[0].StartExchange(new byte[8], new byte[8]));
        Assert.Equal(0, late.Rank);
    }

    [Fact]
    public void ASilentRankTimesTheOthersOut()
    {
        var timeout = TimeSpan.FromMilliseconds(300);
        var ring = InProcessRing.Create(3, timeout);
        var started = Stopwatch.GetTimestamp();
        var aggregate = Assert.Throws<AggregateException>(() => InProcessRing.RunRanks(ring, communicator =>
        {
            if (communicator.Rank != 1)
            {
                communicator.StartExchange(new byte[8], new byte[8]).Wait();
            }
        }));
        var elapsed = Stopwatch.GetElapsedTime(started);
        Assert.True(elapsed < TimeSpan.FromSeconds(5), $"took {elapsed.TotalSeconds} s");
        Assert.Equal(2, aggregate.InnerExceptions.Count);
        Assert.All(aggregate.InnerExceptions, exception => Assert.IsType<RingCommunicationException>(exception));
        // The rank that timed out first failed the ring; the other saw its own timeout or that failure.
        Assert.Contains(aggregate.InnerExceptions, exception => exception.InnerException is TimeoutException);
    }

    [Fact]
    public void MismatchedLengthsFailTheRing()
    {
        var ring = InProcessRing.Create(2, TimeSpan.FromSeconds(20));
        var aggregate = Assert.Throws<AggregateException>(() => InProcessRing.RunRanks(ring, communicator =>
            communicator.StartExchange(new byte[8], new byte[communicator.Rank == 0 ? 8 : 4]).Wait()));
        Assert.Equal(2, aggregate.InnerExceptions.Count);
        Assert.All(aggregate.InnerExceptions, exception =>
            Assert.IsType<InvalidOperationException>(Assert.IsType<RingCommunicationException>(exception).InnerException));
    }

    [Fact]
    public void OneExchangeInFlightPerRank()
    {
        var ring = InProcessRing.Create(2, TimeSpan.FromSeconds(20), linkBytesPerSecond: 0.2);  // 5 s for the byte
        ring[0].StartExchange(new byte[1], new byte[1]);
        Assert.Throws<InvalidOperationException>(() => ring[0].StartExchange(new byte[1], new byte[1]));
        ring[0].Fail(new OperationCanceledException("test over"));
        Assert.Throws<RingCommunicationException>(() => ring[1].StartExchange(new byte[1], new byte[1]));
    }

    [Fact]
    public void RejectsBadArguments()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => InProcessRing.Create(0));
        Assert.Throws<ArgumentOutOfRangeException>(() => InProcessRing.Create(2, TimeSpan.Zero));
        Assert.Throws<ArgumentOutOfRangeException>(() => InProcessRing.Create(2, linkBytesPerSecond: 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => InProcessRing.Create(2, linkBytesPerSecond: double.NaN));
        Assert.Throws<ArgumentNullException>(() => InProcessRing.Create(1)[0].Fail(null!));
    }
}
