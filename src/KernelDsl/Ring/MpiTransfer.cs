using System;
using System.Buffers;
using System.Collections.Generic;
using System.Diagnostics;
using System.Threading;

namespace KernelDsl.Ring;

/// <summary>
/// One exchange of an <see cref="MpiCommunicator"/>: an <c>MPI_Irecv</c> from the previous rank and an
/// <c>MPI_Isend</c> to the next, completed together by <c>MPI_Testall</c>. The buffers stay pinned while
/// MPI may touch them.
/// </summary>
/// <remarks>
/// The rank's thread (in <see cref="Wait"/>) and the communicator's progress thread both test the requests;
/// a lock makes the tests take turns, since a request that one test completes is freed by MPI and must not
/// be handed to MPI again. <see cref="Wait"/> polls rather than calling <c>MPI_Waitall</c> so that it can
/// give up after the communicator's timeout instead of blocking forever on a dead neighbour.
/// </remarks>
internal sealed unsafe class MpiTransfer : RingTransfer
{
    private const int ReceiveIndex = 0;
    private const int SendIndex = 1;

    private readonly MpiCommunicator owner;
    private readonly Lock gate = new();
    private readonly ReadOnlyMemory<byte> send;
    private readonly Memory<byte> receive;
    private readonly int previous;
    private readonly int next;

    // Receive first, then send: the order they are posted in, so that a message that arrives early finds
    // its receive posted instead of being buffered as unexpected.
    private readonly IntPtr[] requests = new IntPtr[2];
    private MemoryHandle sendPin;
    private MemoryHandle receivePin;
    private Outcome outcome = Outcome.Pending;
    private RingCommunicationException? failure;

    public MpiTransfer(MpiCommunicator owner, long sequence, ReadOnlyMemory<byte> send, Memory<byte> receive, int previous, int next)
        : base(owner.Rank, sequence)
    {
        this.owner = owner;
        this.send = send;
        this.receive = receive;
        this.previous = previous;
        this.next = next;
    }

    /// <summary>Where a transfer stands after a test.</summary>
    internal enum Outcome
    {
        Pending,
        Completed,
        Failed,
    }

    public override bool IsCompleted => Poll() == Outcome.Completed;

    /// <summary>Pins both buffers and posts the receive, then the send.</summary>
    /// <exception cref="RingCommunicationException">MPI refused a post; the ring is broken.</exception>
    public void Post(IntPtr communicator, int tag)
    {
        receivePin = receive.Pin();
        sendPin = send.Pin();
        int code;
        fixed (IntPtr* handles = requests)
        {
            code = MpiNative.Irecv(receivePin.Pointer, receive.Length, MpiNative.Byte, previous, tag, communicator, &handles[ReceiveIndex]);
            if (code == MpiNative.Success)
            {
                code = MpiNative.Isend(sendPin.Pointer, send.Length, MpiNative.Byte, next, tag, communicator, &handles[SendIndex]);
            }
        }
        if (code != MpiNative.Success)
        {
            // The pins are kept: a receive that was posted may still be written into.
            string function = requests[ReceiveIndex] == IntPtr.Zero ? "MPI_Irecv" : "MPI_Isend";
            lock (gate)
            {
                Fail($"{function} failed", new MpiException(function, code, MpiNative.Describe(code)));
            }
            throw failure!;
        }
    }

    /// <summary>Tests the requests once (<c>MPI_Testall</c>) unless the outcome is already known; never throws.</summary>
    public Outcome Poll()
    {
        lock (gate)
        {
            if (outcome != Outcome.Pending)
            {
                return outcome;
            }
            int done;
            var statuses = stackalloc MpiStatus[2];
            int code;
            fixed (IntPtr* handles = requests)
            {
                code = MpiNative.Testall(2, handles, &done, statuses);
            }
            if (code == MpiNative.ErrorInStatus && statuses[ReceiveIndex].Error == MpiNative.ErrorTruncate)
            {
                Fail($"rank {previous} sent more than the {receive.Length} bytes this rank expected: the ranks disagree about the shard sizes",
                    new MpiException("MPI_Testall", MpiNative.ErrorTruncate, MpiNative.Describe(MpiNative.ErrorTruncate)));
            }
            else if (code != MpiNative.Success)
            {
                int cause = code == MpiNative.ErrorInStatus
                    ? (statuses[ReceiveIndex].Error != MpiNative.Success ? statuses[ReceiveIndex].Error : statuses[SendIndex].Error)
                    : code;
                Fail("MPI_Testall failed", new MpiException("MPI_Testall", cause, MpiNative.Describe(cause)));
            }
            else if (done != 0)
            {
                int received;
                int countCode = MpiNative.GetCount(&statuses[ReceiveIndex], MpiNative.Byte, &received);
                if (countCode != MpiNative.Success)
                {
                    Fail("MPI_Get_count failed", new MpiException("MPI_Get_count", countCode, MpiNative.Describe(countCode)));
                }
                else if (received != receive.Length)
                {
                    Fail($"rank {previous} sent {received} bytes but this rank expected {receive.Length}: the ranks disagree about the shard sizes",
                        new InvalidOperationException($"Rank {previous} sent {received} bytes, rank {Rank} posted a receive of {receive.Length}."));
                }
                else
                {
                    outcome = Outcome.Completed;
                    sendPin.Dispose();
                    receivePin.Dispose();
                }
            }
            return outcome;
        }
    }

    public override void Wait()
    {
        long start = Stopwatch.GetTimestamp();
        var spinner = new SpinWait();
        while (true)
        {
            switch (Poll())
            {
                case Outcome.Completed:
                    return;
                case Outcome.Failed:
                    throw failure!;
            }
            if (Stopwatch.GetElapsedTime(start) >= owner.Timeout && TimeOut() == Outcome.Failed)
            {
                throw failure!;
            }
            // Yield rather than sleep: a wait is short when the ring is healthy, and on a machine with more
            // ranks than cores the yield hands the core to a rank that is still computing.
            spinner.SpinOnce(sleep1Threshold: -1);
        }
    }

    /// <summary>
    /// Fails the transfer for having outlived the timeout, naming the side that did not finish; completes it
    /// instead if both sides finished in the meantime.
    /// </summary>
    private Outcome TimeOut()
    {
        lock (gate)
        {
            if (outcome != Outcome.Pending)
            {
                return outcome;
            }
            // Tested one by one to say which side is stuck. A completed request is freed by its test; a pending
            // one stays posted, its buffer pinned, since the ring is given up.
            var missing = new List<string>(2);
            MpiStatus status;
            int received = -1;
            int done;
            fixed (IntPtr* handles = requests)
            {
                if (MpiNative.Test(&handles[ReceiveIndex], &done, &status) != MpiNative.Success || done == 0)
                {
                    missing.Add($"nothing arrived from rank {previous} (a receive of {receive.Length} bytes)");
                }
                else if (MpiNative.GetCount(&status, MpiNative.Byte, &received) != MpiNative.Success)
                {
                    received = -1;
                }
                if (MpiNative.Test(&handles[SendIndex], &done, null) != MpiNative.Success || done == 0)
                {
                    missing.Add($"rank {next} did not take the {send.Length} bytes sent to it");
                }
            }
            if (missing.Count == 0 && received == receive.Length)
            {
                outcome = Outcome.Completed;
                sendPin.Dispose();
                receivePin.Dispose();
                return outcome;
            }
            string detail = missing.Count > 0 ? string.Join("; ", missing) : $"rank {previous} sent {received} bytes, not {receive.Length}";
            Fail($"the exchange did not complete within {owner.Timeout}: {detail}; a rank died or stopped answering",
                new TimeoutException($"Ring rank {Rank}, exchange {Sequence}: no completion within {owner.Timeout}."));
            return outcome;
        }
    }

    /// <summary>Records the failure (under the lock) and breaks the communicator; the buffers stay pinned.</summary>
    private void Fail(string reason, Exception cause)
    {
        failure = new RingCommunicationException(Rank, Sequence, reason, cause);
        outcome = Outcome.Failed;
        owner.Break(failure);
    }
}
