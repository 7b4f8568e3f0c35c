namespace KernelDsl.Ring;

/// <summary>A pending exchange started by <see cref="IRingCommunicator.StartExchange"/>: a send and a receive, completed together.</summary>
public abstract class RingTransfer
{
    /// <summary>Creates the handle of exchange <paramref name="sequence"/> of <paramref name="rank"/>.</summary>
    /// <param name="rank">The rank that started the exchange.</param>
    /// <param name="sequence">The exchange's number on that rank, counting from 0.</param>
    protected RingTransfer(int rank, long sequence)
    {
        Rank = rank;
        Sequence = sequence;
    }

    /// <summary>The rank that started the exchange.</summary>
    public int Rank { get; }

    /// <summary>The exchange's number on its rank, counting from 0; the k-th exchanges of all ranks pair up.</summary>
    public long Sequence { get; }

    /// <summary>Whether both the send and the receive have finished (then <see cref="Wait"/> returns at once).</summary>
    public abstract bool IsCompleted { get; }

    /// <summary>
    /// Blocks until the send buffer may be reused and the receive buffer holds the neighbour's bytes.
    /// </summary>
    /// <exception cref="RingCommunicationException">
    /// The ring failed (any rank called <see cref="IRingCommunicator.Fail"/>, or the transport failed),
    /// or the exchange did not complete within <see cref="IRingCommunicator.Timeout"/>; it names this
    /// rank and <see cref="Sequence"/> and carries the cause.
    /// </exception>
    public abstract void Wait();
}
