using System;

namespace KernelDsl.Ring;

/// <summary>How an <see cref="MpiCommunicator"/> waits and makes progress.</summary>
public sealed record MpiCommunicatorOptions
{
    /// <summary>
    /// How long <see cref="RingTransfer.Wait"/> waits for an exchange before it declares the ring broken
    /// (a neighbour died or stopped answering); <see cref="InProcessRing.DefaultTimeout"/> unless set.
    /// </summary>
    public TimeSpan Timeout { get; init; } = InProcessRing.DefaultTimeout;

    /// <summary>
    /// How often the communicator's progress thread tests the exchange in flight while the rank computes;
    /// <see cref="TimeSpan.Zero"/> starts no thread. Open MPI has no asynchronous progress of its own: a
    /// message larger than the eager limit (4 KiB over shared memory) moves only inside MPI calls (the post,
    /// a test, the wait), so without this thread most of a transfer posted before the compute would still
    /// happen in the wait after it. Over shared memory a test that finds the peer ready copies the whole
    /// message, so a millisecond (the default; the OS sleep is no finer) hides transfers that take longer.
    /// </summary>
    public TimeSpan ProgressInterval { get; init; } = TimeSpan.FromMilliseconds(1);

    /// <summary>Throws <see cref="ArgumentException"/> naming the first invalid property.</summary>
    internal void Validate(string parameterName)
    {
        if (Timeout <= TimeSpan.Zero)
        {
            throw new ArgumentException($"{nameof(Timeout)} must be positive, got {Timeout}.", parameterName);
        }
        if (ProgressInterval < TimeSpan.Zero)
        {
            throw new ArgumentException($"{nameof(ProgressInterval)} must not be negative, got {ProgressInterval}.", parameterName);
        }
    }
}
