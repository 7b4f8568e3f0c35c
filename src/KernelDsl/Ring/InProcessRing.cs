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
    /// Some rank threw. The inner exceptions are every failing rank's exception: first the ring's cause (the one
    /// the others carry), then the rest in the order they were caught. When a rank's own code threw, that exception
    /// comes first (also when <paramref name="body"/> failed the ring itself before rethrowing it) and the others are
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
            throw new AggregateException($"{failures.Count} of {threads.Length} ring ranks failed.", CausesFirst(failures));
        }
    }

    /// <summary>
    /// <paramref name="failures"/> with the exceptions that another failure carries in its cause chain moved to the
    /// front, each group in the order caught.
    /// </summary>
    /// <remarks>
    /// The order they were caught in is not the order they happened in: a rank that fails the ring itself before its
    /// exception leaves <c>body</c> (as <see cref="RingAttentionDriver.Forward"/> does, so that no rank waits for it)
    /// wakes the other ranks, whose <see cref="RingCommunicationException"/>s can reach the catch first. Those carry
    /// the ring's cause as their inner exception, which identifies it whatever the timing.
    /// </remarks>
    private static List<Exception> CausesFirst(List<Exception> failures)
    {
        bool IsCause(Exception candidate) => failures.Exists(failure => !ReferenceEquals(failure, candidate) && CarriesCause(failure, candidate));
        var ordered = failures.FindAll(IsCause);
        ordered.AddRange(failures.FindAll(failure => !IsCause(failure)));
        return ordered;
    }

    private static bool CarriesCause(Exception failure, Exception cause)
    {
        for (var inner = failure.InnerException; inner is not null; inner = inner.InnerException)
        {
            if (ReferenceEquals(inner, cause))
            {
                return true;
            }
        }
        return false;
    }
}
