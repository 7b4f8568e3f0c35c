using System;
using System.Threading;

namespace KernelDsl.Ring;

/// <summary>What the ranks of one <see cref="InProcessRing"/> share: the links between neighbours and the ring's failure.</summary>
internal sealed class InProcessRingState
{
    private readonly InProcessLink[] links;

    /// <summary>Cancelled on the first failure; every wait listens to it, which is how a failure reaches all ranks at once.</summary>
    private readonly CancellationTokenSource failed = new();

    private readonly Lock gate = new();
    private Exception? failure;
    private int failedRank;

    public InProcessRingState(int size, TimeSpan timeout, double linkBytesPerSecond)
    {
        Size = size;
        Timeout = timeout;
        LinkBytesPerSecond = linkBytesPerSecond;
        links = new InProcessLink[size];
        for (int rank = 0; rank < size; rank++)
        {
            links[rank] = new InProcessLink(this, rank);
        }
    }

    public int Size { get; }

    public TimeSpan Timeout { get; }

    /// <summary>Emulated bandwidth of every link; infinite: none.</summary>
    public double LinkBytesPerSecond { get; }

    public CancellationToken FailureToken => failed.Token;

    public bool HasFailed => failed.IsCancellationRequested;

    /// <summary>The link on which <paramref name="rank"/> sends (to rank + 1).</summary>
    public InProcessLink LinkFrom(int rank) => links[rank];

    /// <summary>The link on which <paramref name="rank"/> receives (from rank − 1).</summary>
    public InProcessLink LinkInto(int rank) => links[(rank - 1 + Size) % Size];

    /// <summary>Records the ring's first failure and wakes every wait; later failures are consequences and are dropped.</summary>
    public void Fail(int rank, Exception cause)
    {
        lock (gate)
        {
            if (failure is not null)
            {
                return;
            }
            failure = cause;
            failedRank = rank;
        }
        failed.Cancel();
    }

    /// <summary>The exception a wait of <paramref name="rank"/> on exchange <paramref name="sequence"/> throws once the ring has failed.</summary>
    public RingCommunicationException FailureSeenBy(int rank, long sequence)
    {
        lock (gate)
        {
            string origin = failedRank == rank ? "this rank" : $"rank {failedRank}";
            return new RingCommunicationException(rank, sequence, $"the ring was aborted by {origin}: {failure?.Message}", failure);
        }
    }
}
