using System;

namespace KernelDsl.Ring;

/// <summary>Rank <see cref="Rank"/> of an <see cref="InProcessRing"/>.</summary>
internal sealed class InProcessCommunicator(InProcessRingState ring, int rank) : IRingCommunicator
{
    private long nextSequence;
    private InProcessTransfer? lastTransfer;

    public int Rank { get; } = rank;

    public int Size => ring.Size;

    public TimeSpan Timeout => ring.Timeout;

    public RingTransfer StartExchange(ReadOnlyMemory<byte> send, Memory<byte> receive)
    {
        if (ring.HasFailed)
        {
            throw ring.FailureSeenBy(Rank, nextSequence);
        }
        if (lastTransfer is { IsCompleted: false })
        {
            throw new InvalidOperationException(
                $"Rank {Rank} started exchange {nextSequence} before exchange {lastTransfer.Sequence} completed; wait for it first.");
        }
        var transfer = new InProcessTransfer(ring, Rank, nextSequence++);
        lastTransfer = transfer;
        ring.LinkFrom(Rank).PostSend(send, transfer);
        ring.LinkInto(Rank).PostReceive(receive, transfer);
        return transfer;
    }

    public void Fail(Exception cause)
    {
        ArgumentNullException.ThrowIfNull(cause);
        ring.Fail(Rank, cause);
    }
}
