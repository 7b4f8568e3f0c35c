using System;
using System.Diagnostics;
using System.Threading;
using KernelDsl.Cuda;

namespace KernelDsl.Ring;

/// <summary>
/// A pending exchange of an <see cref="NcclCommunicator"/>: complete when the event recorded after its
/// send/receive group has been reached on the communicator's stream.
/// </summary>
public sealed class NcclTransfer : RingTransfer
{
    private readonly NcclCommunicator owner;
    private readonly Action? completion;
    private readonly Lock gate = new();
    private bool completed;
    private RingCommunicationException? failure;

    internal NcclTransfer(NcclCommunicator owner, long sequence, Action? completion)
        : base(owner.Rank, sequence)
    {
        this.owner = owner;
        this.completion = completion;
    }

    /// <inheritdoc/>
    public override bool IsCompleted => Poll();

    /// <summary>
    /// Blocks the host until the exchange is done (for a host-memory exchange, until the received bytes have
    /// been copied back), polling so that it can give up after the communicator's timeout.
    /// </summary>
    /// <exception cref="RingCommunicationException">
    /// NCCL reported an error, the ring was aborted, or the exchange outlived the timeout (the NCCL
    /// communicator is then aborted).
    /// </exception>
    public override void Wait()
    {
        long start = Stopwatch.GetTimestamp();
        var spinner = new SpinWait();
        while (!Poll())
        {
            if (failure is not null)
            {
                throw failure;
            }
            if (Stopwatch.GetElapsedTime(start) >= owner.Timeout)
            {
                lock (gate)
                {
                    failure ??= new RingCommunicationException(Rank, Sequence,
                        $"the exchange did not complete within {owner.Timeout}: a rank died or stopped answering; the NCCL communicator was aborted",
                        new TimeoutException($"Ring rank {Rank}, exchange {Sequence}: no completion within {owner.Timeout}."));
                }
                owner.Abort(failure);
                throw failure;
            }
            spinner.SpinOnce(sleep1Threshold: -1);
        }
    }

    /// <summary>
    /// Makes work queued on <paramref name="stream"/> from now on wait for this exchange, without blocking the
    /// host: the way a GPU compute stream consumes a received shard. Must be called before the next exchange
    /// starts. It has no timeout; a host-side <see cref="Wait"/> (or <see cref="IsCompleted"/>) later still
    /// reports a broken ring.
    /// </summary>
    /// <param name="stream">The stream that will read the received buffer.</param>
    /// <exception cref="ObjectDisposedException">The stream was disposed.</exception>
    public void ScheduleWait(CudaStream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        lock (gate)
        {
            if (!completed)
            {
                CudaDevice.Gpu.MakeCurrent();
                CudaDriver.Check(CudaDriver.cuStreamWaitEvent(stream.Handle, owner.ExchangeDone, 0), nameof(CudaDriver.cuStreamWaitEvent));
            }
        }
    }

    /// <summary>Queries the event once; on completion runs the host copy-back. Records a failure rather than throwing it.</summary>
    private bool Poll()
    {
        lock (gate)
        {
            if (completed || failure is not null)
            {
                return completed;
            }
            // The event is current: a later exchange re-records it only after this one has completed.
            CudaDevice.Gpu.MakeCurrent();
            var result = CudaDriver.cuEventQuery(owner.ExchangeDone);
            if (result == CudaResult.Success)
            {
                completion?.Invoke();
                completed = true;
            }
            else if (result != CudaResult.NotReady)
            {
                var (name, description) = CudaDriver.Describe(result);
                failure = new RingCommunicationException(Rank, Sequence, "the exchange's stream failed",
                    new CudaException(nameof(CudaDriver.cuEventQuery), (int)result, name, description));
                owner.Abort(failure);
            }
            else
            {
                failure = owner.AsynchronousError(Sequence);
            }
            return completed;
        }
    }
}
