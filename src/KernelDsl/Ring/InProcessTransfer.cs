using System;
using System.Threading;

namespace KernelDsl.Ring;

/// <summary>
/// One rank's exchange on an <see cref="InProcessRing"/>: complete when both its send (copied out by
/// the link to rank + 1) and its receive (copied in by the link from rank − 1) are done.
/// </summary>
internal sealed class InProcessTransfer(InProcessRingState ring, int rank, long sequence) : RingTransfer(rank, sequence)
{
    // No kernel handle is created unless WaitHandle is read, so the event needs no disposal.
    private readonly ManualResetEventSlim done = new(false);
    private int remainingParts = 2;

    public override bool IsCompleted => done.IsSet;

    /// <summary>Called by a link when the send or the receive has been copied; the second call completes the transfer.</summary>
    public void CompletePart()
    {
        if (Interlocked.Decrement(ref remainingParts) == 0)
        {
            done.Set();
        }
    }

    public override void Wait()
    {
        if (done.IsSet)
        {
            return;
        }
        bool completed;
        try
        {
            completed = done.Wait(ring.Timeout, ring.FailureToken);
        }
        catch (OperationCanceledException)
        {
            throw ring.FailureSeenBy(Rank, Sequence);
        }
        if (!completed)
        {
            var timedOut = new RingCommunicationException(
                Rank, Sequence, $"the exchange did not complete within {ring.Timeout}", new TimeoutException());
            // A silent neighbour breaks the whole ring: fail it now so that the other ranks stop
            // waiting at once instead of each running into its own timeout.
            ring.Fail(Rank, timedOut);
            throw timedOut;
        }
    }
}
