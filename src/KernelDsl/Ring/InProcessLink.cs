using System;
using System.Threading;

namespace KernelDsl.Ring;

/// <summary>
/// The one-way link rank → rank + 1 of an <see cref="InProcessRing"/>. It pairs the sender's posted send
/// with the receiver's posted receive, and its own copy thread moves the bytes, so both ranks compute
/// meanwhile. Since a rank has at most one exchange in flight, the k-th send always meets the k-th receive
/// and at most one pair waits to be copied.
/// </summary>
/// <remarks>
/// The copy runs on a dedicated thread rather than the thread pool (like an MPI progress thread or an
/// NCCL proxy thread): a CPU block kernel that spreads its work over the pool would otherwise keep every
/// pool thread busy for the whole step, and the copy meant to overlap it would queue behind it. The thread
/// starts on the link's first pair and exits after <see cref="IdleExit"/> without one, so an abandoned ring
/// leaves no thread behind.
/// </remarks>
internal sealed class InProcessLink(InProcessRingState ring, int sender)
{
    private static readonly TimeSpan IdleExit = TimeSpan.FromSeconds(1);

    private readonly object gate = new();
    private (ReadOnlyMemory<byte> Data, InProcessTransfer Transfer)? pendingSend;
    private (Memory<byte> Data, InProcessTransfer Transfer)? pendingReceive;
    private Pair? paired;
    private bool copierRunning;

    public void PostSend(ReadOnlyMemory<byte> data, InProcessTransfer transfer)
    {
        lock (gate)
        {
            pendingSend = (data, transfer);
            PairIfBothPosted();
        }
    }

    public void PostReceive(Memory<byte> data, InProcessTransfer transfer)
    {
        lock (gate)
        {
            pendingReceive = (data, transfer);
            PairIfBothPosted();
        }
    }

    /// <summary>Hands a matched send and receive to the copy thread, starting it if it is not running. Called under the lock.</summary>
    private void PairIfBothPosted()
    {
        if (pendingSend is not { } send || pendingReceive is not { } receive)
        {
            return;
        }
        pendingSend = null;
        pendingReceive = null;
        paired = new Pair(send.Data, send.Transfer, receive.Data, receive.Transfer);
        if (copierRunning)
        {
            Monitor.Pulse(gate);
            return;
        }
        copierRunning = true;
        new Thread(CopyLoop) { IsBackground = true, Name = $"ring link {sender}→{(sender + 1) % ring.Size}" }.Start();
    }

    private void CopyLoop()
    {
        while (true)
        {
            Pair pair;
            lock (gate)
            {
                while (paired is null)
                {
                    if (!Monitor.Wait(gate, IdleExit) && paired is null)
                    {
                        copierRunning = false;
                        return;
                    }
                }
                pair = paired;
                paired = null;
            }
            Copy(pair);
        }
    }

    private void Copy(Pair pair)
    {
        // The emulated link time, bytes / bandwidth; a ring that fails meanwhile is reported by the ranks' waits.
        if (double.IsFinite(ring.LinkBytesPerSecond)
            && ring.FailureToken.WaitHandle.WaitOne(TimeSpan.FromSeconds(pair.Source.Length / ring.LinkBytesPerSecond)))
        {
            return;
        }
        if (pair.Source.Length != pair.Destination.Length)
        {
            int receiver = (sender + 1) % ring.Size;
            ring.Fail(sender, new InvalidOperationException(
                $"Rank {sender} sent {pair.Source.Length} bytes but rank {receiver} posted a receive of {pair.Destination.Length} bytes."));
            return;
        }
        pair.Source.Span.CopyTo(pair.Destination.Span);
        pair.SendTransfer.CompletePart();
        pair.ReceiveTransfer.CompletePart();
    }

    /// <summary>A matched send and receive, waiting for the copy thread.</summary>
    private sealed record Pair(ReadOnlyMemory<byte> Source, InProcessTransfer SendTransfer, Memory<byte> Destination, InProcessTransfer ReceiveTransfer);
}
