using System;

namespace KernelDsl.Ring;

/// <summary>A ring exchange failed: the ring was aborted by a rank, the transport failed, or a wait timed out.</summary>
public sealed class RingCommunicationException : Exception
{
    private readonly string reason;

    /// <summary>Creates the exception.</summary>
    /// <param name="rank">The rank that observed the failure.</param>
    /// <param name="sequence">The number of the exchange that failed on that rank.</param>
    /// <param name="reason">What went wrong, for the message.</param>
    /// <param name="innerException">The cause: the failing rank's exception, a <see cref="TimeoutException"/>, or the transport's error.</param>
    public RingCommunicationException(int rank, long sequence, string reason, Exception? innerException)
        : base($"Ring rank {rank}, exchange {sequence}: {reason}", innerException)
    {
        Rank = rank;
        Sequence = sequence;
        this.reason = reason;
    }

    /// <summary>The rank that observed the failure.</summary>
    public int Rank { get; }

    /// <summary>The number of the exchange that failed on <see cref="Rank"/>, counting from 0 over the communicator's lifetime (a forward pass over P ≥ 2 ranks makes P: the description handshake, then one per step but the last).</summary>
    public long Sequence { get; }

    /// <summary>
    /// The ring attention step whose exchange failed, set when the failure passes through
    /// <see cref="RingAttentionDriver.Forward"/>; null for a failure outside the steps (the description handshake,
    /// or a caller's own exchanges).
    /// </summary>
    public int? Step { get; internal set; }

    /// <inheritdoc/>
    public override string Message => Step is { } step ? $"Ring rank {Rank}, step {step} (exchange {Sequence}): {reason}" : base.Message;
}
