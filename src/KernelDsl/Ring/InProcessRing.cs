using System;
using System.Collections.Generic;
using System.Threading;

namespace KernelDsl.Ring;

/// <summary>
/// A ring of P ranks inside one process, for P concurrent workers (threads) that each own their
/// buffers: an exchange copies rank r's send buffer into rank r + 1's receive buffer. The copy runs
/// on the link's own thread as soon as both sides have posted, so the ranks return from
/// <see cref="IRingCommunicator.StartExchange"/> at once and compute while the bytes move.
/// </summary>
public static class InProcessRing
{
    /// <summary>The wait timeout when none is given.</summary>
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(30);

    /// <summary>Creates the communicators of a ring of <paramref name="ranks"/> ranks; element r is rank r.</summary>
    /// <param name="ranks">Number of ranks (≥ 1).</param>
    /// <param name="timeout">How long a wait may block before the ring is declared broken; <see cref="DefaultTimeout"/> when null.</param>
    /// <param name="linkBytesPerSecond">
    /// Emulated bandwidth of each link: a transfer of n bytes waits n / bandwidth before its copy, on the copy's
    /// side (the ranks do not block on it), e.g. to measure how much communication the schedule hides. A small
    /// message (the handshake's header) is correspondingly quick. Infinite (the default): no wait.
    /// </param>
    /// <returns>The communicators. Each is used by one worker at a time; <see cref="IRingCommunicator.Fail"/> may be called from any thread.</returns>
    /// <exception cref="ArgumentOutOfRangeException">A count or duration is out of range.</exception>
    public static IReadOnlyList<IRingCommunicator> Create(int ranks, TimeSpan? timeout = null, double linkBytesPerSecond = double.PositiveInfinity)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(ranks, 1);
        var wait = timeout ?? DefaultTimeout;
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(wait, TimeSpan.Zero, nameof(timeout));
        if (!(linkBytesPerSecond > 0))  // NaN is refused too
        {
            throw new ArgumentOutOfRangeException(nameof(linkBytesPerSecond), linkBytesPerSecond, "The link bandwidth must be positive (infinite: no emulated delay).");
        }
        var ring = new InProcessRingState(ranks, wait, linkBytesPerSecond);
        var communicators = new IRingCommunicator[ranks];
        for (int rank = 0; rank < ranks; rank++)
        {
            communicators[rank] = new InProcessCommunicator(ring, rank);
        }
        return communicators;
    }

    /// <summary>
    /// Runs <paramref name="body"/> once per communicator, each on its own dedicated thread, and waits
    /// for all. When a rank throws, its exception fails the ring (<see cref="IRingCommunicator.Fail"/>),
    /// so the other ranks' waits throw <see cref="RingCommunicationException"/> instead of hanging.
    /// </summary>
    /// <param name="communicators">The ring, e.g. from <see cref="Create"/>.</param>
    /// <param name="body">The work of one rank.</param>
    /// <exception cref="AggregateException">
    /// Some rank threw. The inner exceptions are every failing rank's exception in the order they were
    /// caught. When a rank's own code threw, that exception comes first and the others are
    /// <see cref="RingCommunicationException"/>s carrying it as their inner exception; when a wait timed
    /// out, every inner exception is a <see cref="RingCommunicationException"/> and the cause chain of
    /// each ends in the <see cref="TimeoutException"/>.
    /// </exception>
    public static void RunRanks(IReadOnlyList<IRingCommunicator> communicators, Action<IRingCommunicator> body)
    {
        ArgumentNullException.ThrowIfNull(communicators);
        ArgumentNullException.ThrowIfNull(body);
        var failures = new List<Exception>();
        var threads = new Thread[communicators.Count];
        for (int i = 0; i < threads.Length; i++)
        {
            var communicator = communicators[i];
            threads[i] = new Thread(() =>
            {
                try
                {
                    body(communicator);
                }
                catch (Exception exception)
                {
                    lock (failures)
                    {
                        failures.Add(exception);
                    }
                    communicator.Fail(exception);
                }
            })
            {
                IsBackground = true,
                Name = $"ring rank {communicator.Rank}",
            };
        }
        foreach (var thread in threads)
        {
            thread.Start();
        }
        foreach (var thread in threads)
        {
            thread.Join();
        }
        if (failures.Count > 0)
        {
            throw new AggregateException($"{failures.Count} of {threads.Length} ring ranks failed.", failures);
        }
    }
}
