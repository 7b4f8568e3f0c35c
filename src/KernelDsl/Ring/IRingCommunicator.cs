using System;

namespace KernelDsl.Ring;

/// <summary>
/// One rank's view of a ring of <see cref="Size"/> ranks: a non-blocking exchange with both
/// neighbours and a way to abort the whole ring. Transport-neutral: implemented in process by
/// <see cref="InProcessRing"/>, and meant to be implemented unchanged over MPI (Isend/Irecv) or NCCL
/// (send/recv in a group).
/// </summary>
/// <remarks>
/// Exchanges are collective and matched by order: the k-th exchange of rank r sends to the k-th
/// exchange of rank r + 1 and receives from the k-th exchange of rank r − 1 (mod <see cref="Size"/>),
/// so every rank performs the same sequence of exchanges. At most one exchange per rank is in
/// flight: the previous transfer must have completed before the next is started.
/// </remarks>
public interface IRingCommunicator
{
    /// <summary>This rank, 0 ≤ Rank &lt; <see cref="Size"/>.</summary>
    int Rank { get; }

    /// <summary>Number of ranks in the ring.</summary>
    int Size { get; }

    /// <summary>How long <see cref="RingTransfer.Wait"/> waits before it declares the ring broken.</summary>
    TimeSpan Timeout { get; }

    /// <summary>
    /// Posts, together and without blocking, the send of <paramref name="send"/> to rank + 1 and the
    /// receive from rank − 1 into <paramref name="receive"/>. Until the returned transfer has been
    /// waited on, <paramref name="send"/> must not be written and <paramref name="receive"/> must not
    /// be touched. <paramref name="send"/>.Length must equal the receive length rank + 1 posts; a
    /// mismatch fails the ring.
    /// </summary>
    /// <param name="send">Bytes for rank + 1.</param>
    /// <param name="receive">Where the bytes of rank − 1 land.</param>
    /// <returns>The pending transfer; <see cref="RingTransfer.Wait"/> completes it.</returns>
    /// <exception cref="RingCommunicationException">The ring has already failed.</exception>
    /// <exception cref="InvalidOperationException">The previous exchange has not completed.</exception>
    RingTransfer StartExchange(ReadOnlyMemory<byte> send, Memory<byte> receive);

    /// <summary>
    /// Aborts the ring because this rank failed: every pending and future <see cref="RingTransfer.Wait"/>
    /// on every rank throws a <see cref="RingCommunicationException"/> carrying <paramref name="cause"/>,
    /// within the timeout. Only the first failure of a ring is recorded.
    /// </summary>
    /// <param name="cause">Why this rank gave up.</param>
    void Fail(Exception cause);
}
