using System;
using System.Threading;
using KernelDsl.Ring;

namespace KernelDsl.Tests.Ring;

/// <summary>
/// Passes everything through, but its <see cref="Fail"/> returns only <see cref="Delay"/> after the ring has failed,
/// as a transport whose abort is slow would (MPI's, say). A rank that fails the ring and then rethrows is held that
/// long between the two, so the other ranks, woken by the failure, surely throw before its exception is.
/// </summary>
internal sealed class SlowFailCommunicator(IRingCommunicator inner) : IRingCommunicator
{
    public static readonly TimeSpan Delay = TimeSpan.FromMilliseconds(100);

    public int Rank => inner.Rank;

    public int Size => inner.Size;

    public TimeSpan Timeout => inner.Timeout;

    public RingTransfer StartExchange(ReadOnlyMemory<byte> send, Memory<byte> receive) => inner.StartExchange(send, receive);

    public void Fail(Exception cause)
    {
        inner.Fail(cause);
        Thread.Sleep(Delay);
    }
}
