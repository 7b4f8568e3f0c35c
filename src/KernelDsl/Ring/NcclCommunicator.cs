using System;
using System.IO;
using System.Runtime.CompilerServices;
using System.Threading;
using KernelDsl.Cuda;

namespace KernelDsl.Ring;

/// <summary>
/// This process's rank of a ring of GPUs over NCCL: one rank per process and GPU (the process's CUDA
/// device 0; give each process its own GPU with <c>CUDA_VISIBLE_DEVICES</c>), the ring in rank order, an
/// exchange an <c>ncclSend</c> to rank + 1 and an <c>ncclRecv</c> from rank − 1 issued in one group on the
/// communicator's own <see cref="Stream"/>. Binds <c>libnccl.so.2</c> at run time.
/// </summary>
/// <remarks>
/// <para>
/// Two kinds of exchange. <see cref="StartExchange{T}"/> moves <see cref="DeviceBuffer{T}"/> contents
/// GPU to GPU, ordered after a producer stream through an event, and its <see cref="NcclTransfer"/> lets a
/// compute stream wait for exactly that exchange (<see cref="NcclTransfer.ScheduleWait"/>) without
/// blocking the host: what a GPU ring kernel needs. <see cref="StartExchange(ReadOnlyMemory{byte}, Memory{byte})"/>
/// implements <see cref="IRingCommunicator"/> for host memory by staging it through device buffers, so the
/// CPU <see cref="RingAttentionDriver"/> runs unchanged over NCCL (correct, not fast: the copies are synchronous).
/// </para>
/// <para>
/// Both the send and the receive of an exchange are issued inside one <c>ncclGroupStart</c>/<c>ncclGroupEnd</c>:
/// issued separately, every rank's send would wait for a receive that its neighbour has not yet issued,
/// and the ring would deadlock. NCCL does not check that the lengths of a matched send and receive agree;
/// the handshake of <see cref="RingAttentionDriver.Forward"/> makes sure the ranks describe the same shards.
/// A wait that outlives <see cref="Timeout"/> aborts the NCCL communicator (<c>ncclCommAbort</c>) so that
/// no GPU work stays stuck, and throws <see cref="RingCommunicationException"/>.
/// </para>
/// </remarks>
public sealed unsafe class NcclCommunicator : IRingCommunicator, IDisposable
{
    private const uint EventDisableTiming = 2;      // CU_EVENT_DISABLE_TIMING: cheaper, and only ordering is needed

    private readonly IntPtr communicator;
    private readonly MpiCommunicator? bootstrap;
    private readonly bool ownsBootstrap;
    private readonly IntPtr exchangeDone;           // recorded on Stream after each exchange's group
    private readonly IntPtr inputsReady;            // recorded on a producer stream before an exchange reads its buffer
    private DeviceBuffer<byte>? sendStage;
    private DeviceBuffer<byte>? receiveStage;
    private long nextSequence;
    private NcclTransfer? lastTransfer;
    private RingCommunicationException? broken;
    private int aborted;
    private bool disposed;

    private NcclCommunicator(IntPtr communicator, int rank, int size, TimeSpan timeout, MpiCommunicator? bootstrap, bool ownsBootstrap)
    {
        this.communicator = communicator;
        this.bootstrap = bootstrap;
        this.ownsBootstrap = ownsBootstrap;
        Rank = rank;
        Size = size;
        Timeout = timeout;
        Stream = new CudaStream(CudaDevice.Gpu);
        CudaDevice.Gpu.MakeCurrent();
        CudaDriver.Check(CudaDriver.cuEventCreate(out exchangeDone, EventDisableTiming), nameof(CudaDriver.cuEventCreate));
        CudaDriver.Check(CudaDriver.cuEventCreate(out inputsReady, EventDisableTiming), nameof(CudaDriver.cuEventCreate));
    }

    /// <summary>Whether NCCL loads and a CUDA device is present; never throws.</summary>
    public static bool IsAvailable => NcclNative.IsAvailable && CudaDevice.IsAvailable;

    /// <inheritdoc/>
    public int Rank { get; }

    /// <inheritdoc/>
    public int Size { get; }

    /// <inheritdoc/>
    public TimeSpan Timeout { get; }

    /// <summary>The stream the exchanges run on; order work against it with events, not by synchronising it.</summary>
    public CudaStream Stream { get; }

    /// <summary>The handle of the event recorded after the latest exchange, for <see cref="NcclTransfer"/>.</summary>
    internal IntPtr ExchangeDone => exchangeDone;

    /// <summary>
    /// Initialises MPI (<see cref="MpiCommunicator.Initialize"/>), makes rank 0's NCCL unique id known to
    /// every rank with <c>MPI_Bcast</c>, and joins the NCCL ring of all <c>mpirun</c> processes. The MPI
    /// communicator is owned: disposing this disposes it, and <see cref="Fail"/> aborts the MPI job.
    /// </summary>
    /// <param name="timeout">How long a wait may block before the ring is declared broken; <see cref="InProcessRing.DefaultTimeout"/> when null.</param>
    /// <returns>This process's rank.</returns>
    /// <exception cref="NcclUnavailableException">NCCL or a CUDA device is missing (checked before MPI is touched).</exception>
    /// <exception cref="MpiUnavailableException">Open MPI cannot be used.</exception>
    /// <exception cref="NcclException">NCCL failed to form the communicator.</exception>
    public static NcclCommunicator CreateOverMpi(TimeSpan? timeout = null)
    {
        EnsureUsable();
        var wait = timeout ?? InProcessRing.DefaultTimeout;
        var mpi = MpiCommunicator.Initialize(new MpiCommunicatorOptions { Timeout = wait });
        try
        {
            return Create(mpi, wait, ownsBootstrap: true);
        }
        catch
        {
            mpi.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Joins the NCCL ring whose ranks and size are those of <paramref name="bootstrap"/>, sharing rank 0's
    /// unique id over it. Collective over the MPI job. The MPI communicator stays the caller's.
    /// </summary>
    /// <param name="bootstrap">An MPI communicator of the same processes.</param>
    /// <param name="timeout">How long a wait may block before the ring is declared broken; <see cref="InProcessRing.DefaultTimeout"/> when null.</param>
    /// <returns>This process's rank.</returns>
    /// <exception cref="NcclUnavailableException">NCCL or a CUDA device is missing.</exception>
    /// <exception cref="NcclException">NCCL failed to form the communicator.</exception>
    public static NcclCommunicator Create(MpiCommunicator bootstrap, TimeSpan? timeout = null)
    {
        ArgumentNullException.ThrowIfNull(bootstrap);
        EnsureUsable();
        return Create(bootstrap, timeout ?? InProcessRing.DefaultTimeout, ownsBootstrap: false);
    }

    /// <summary>
    /// Joins an NCCL ring of <paramref name="size"/> processes without MPI: rank 0 writes its unique id to
    /// <paramref name="idFile"/> (on a file system every rank sees), the others wait for it for up to the timeout.
    /// Use a fresh path per job, or a rank may read a previous job's id.
    /// </summary>
    /// <param name="rank">This process's rank, 0 ≤ rank &lt; size.</param>
    /// <param name="size">The number of ranks.</param>
    /// <param name="idFile">Where rank 0 publishes the id.</param>
    /// <param name="timeout">How long to wait for the id file and, later, for an exchange; <see cref="InProcessRing.DefaultTimeout"/> when null.</param>
    /// <returns>This process's rank.</returns>
    /// <exception cref="ArgumentOutOfRangeException">The rank or size is out of range.</exception>
    /// <exception cref="NcclUnavailableException">NCCL or a CUDA device is missing.</exception>
    /// <exception cref="TimeoutException">Rank 0's id file did not appear in time.</exception>
    /// <exception cref="NcclException">NCCL failed to form the communicator.</exception>
    public static NcclCommunicator CreateWithIdFile(int rank, int size, string idFile, TimeSpan? timeout = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(size, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(rank);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(rank, size);
        ArgumentException.ThrowIfNullOrEmpty(idFile);
        EnsureUsable();
        var wait = timeout ?? InProcessRing.DefaultTimeout;
        NcclUniqueId id = default;
        if (rank == 0)
        {
            NcclNative.Check(NcclNative.GetUniqueId(&id), "ncclGetUniqueId");
            // Written aside and renamed, so a reader never sees half an id.
            string partial = idFile + ".partial";
            File.WriteAllBytes(partial, ((ReadOnlySpan<byte>)id).ToArray());
            File.Move(partial, idFile, overwrite: true);
        }
        else
        {
            var started = DateTime.UtcNow;
            while (!File.Exists(idFile))
            {
                if (DateTime.UtcNow - started > wait)
                {
                    throw new TimeoutException($"Rank {rank} waited {wait} for the NCCL id file {idFile}, which rank 0 writes.");
                }
                Thread.Sleep(10);
            }
            File.ReadAllBytes(idFile).AsSpan(0, NcclUniqueId.Bytes).CopyTo(id);
        }
        return new NcclCommunicator(InitRank(id, rank, size), rank, size, wait, bootstrap: null, ownsBootstrap: false);
    }

    /// <summary>Host-memory exchange (<see cref="IRingCommunicator"/>): staged through device buffers, copied back in the wait.</summary>
    /// <param name="send">Bytes for rank + 1.</param>
    /// <param name="receive">Where the bytes of rank − 1 land once the transfer has been waited on.</param>
    /// <returns>The pending transfer.</returns>
    /// <exception cref="RingCommunicationException">The ring has failed, or NCCL refused the exchange.</exception>
    /// <exception cref="InvalidOperationException">The previous exchange has not completed.</exception>
    public RingTransfer StartExchange(ReadOnlyMemory<byte> send, Memory<byte> receive)
    {
        BeginExchange();
        CudaDevice.Gpu.MakeCurrent();
        var outgoing = Stage(ref sendStage, send.Length);
        var incoming = Stage(ref receiveStage, receive.Length);
        if (send.Length > 0)
        {
            using var pin = send.Pin();
            CudaDriver.Check(CudaDriver.cuMemcpyHtoD_v2(outgoing.Pointer, pin.Pointer, (nuint)send.Length), nameof(CudaDriver.cuMemcpyHtoD_v2));
        }
        return Enqueue(outgoing.Pointer, send.Length, incoming.Pointer, receive.Length, producer: null, completion: () =>
        {
            if (receive.Length > 0)
            {
                using var pin = receive.Pin();
                CudaDevice.Gpu.MakeCurrent();
                CudaDriver.Check(CudaDriver.cuMemcpyDtoH_v2(pin.Pointer, incoming.Pointer, (nuint)receive.Length), nameof(CudaDriver.cuMemcpyDtoH_v2));
            }
        });
    }

    /// <summary>
    /// Device-memory exchange: sends the first <paramref name="sendLength"/> elements of <paramref name="send"/>
    /// to rank + 1 and receives <paramref name="receiveLength"/> elements from rank − 1 into <paramref name="receive"/>,
    /// on <see cref="Stream"/>, after the work queued so far on <paramref name="producer"/> (the stream that wrote
    /// <paramref name="send"/>). Neither buffer may be touched until the transfer is waited on or a stream has been
    /// made to wait for it.
    /// </summary>
    /// <typeparam name="T">The element type.</typeparam>
    /// <param name="send">The buffer to send from.</param>
    /// <param name="sendLength">Elements to send; the receive length rank + 1 posts.</param>
    /// <param name="receive">The buffer to receive into; not <paramref name="send"/>.</param>
    /// <param name="receiveLength">Elements to receive; the send length rank − 1 posts.</param>
    /// <param name="producer">The stream whose queued work must finish before <paramref name="send"/> is read; none when null.</param>
    /// <returns>The pending transfer.</returns>
    /// <exception cref="ArgumentException">The buffers are the same or too short.</exception>
    /// <exception cref="RingCommunicationException">The ring has failed, or NCCL refused the exchange.</exception>
    /// <exception cref="InvalidOperationException">The previous exchange has not completed.</exception>
    public NcclTransfer StartExchange<T>(DeviceBuffer<T> send, int sendLength, DeviceBuffer<T> receive, int receiveLength, CudaStream? producer = null)
        where T : unmanaged
    {
        ArgumentNullException.ThrowIfNull(send);
        ArgumentNullException.ThrowIfNull(receive);
        if (ReferenceEquals(send, receive))
        {
            throw new ArgumentException("The send and receive buffers must differ.", nameof(receive));
        }
        ArgumentOutOfRangeException.ThrowIfNegative(sendLength);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(sendLength, send.Length);
        ArgumentOutOfRangeException.ThrowIfNegative(receiveLength);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(receiveLength, receive.Length);
        if (send.Device is { IsEmulated: true } || receive.Device is { IsEmulated: true })
        {
            throw new ArgumentException(
                "NCCL moves GPU memory; buffers on the emulator exchange through an in-process or MPI communicator.", nameof(send));
        }

        BeginExchange();
        long elementBytes = Unsafe.SizeOf<T>();
        return Enqueue(send.Pointer, sendLength * elementBytes, receive.Pointer, receiveLength * elementBytes, producer, completion: null);
    }

    /// <summary>
    /// Aborts the ring because this rank failed: writes the cause to standard error, aborts the NCCL
    /// communicator (this rank's pending and later waits throw) and, when the ring was bootstrapped over MPI,
    /// ends the MPI job (<see cref="MpiCommunicator.Fail"/>), which stops every rank at once. Without MPI the
    /// other ranks learn of it through their timeout.
    /// </summary>
    /// <param name="cause">Why this rank gave up.</param>
    public void Fail(Exception cause)
    {
        ArgumentNullException.ThrowIfNull(cause);
        Abort(new RingCommunicationException(Rank, nextSequence, $"the ring was aborted by this rank: {cause.Message}", cause));
        if (bootstrap is not null)
        {
            bootstrap.Fail(cause);
        }
        else
        {
            Console.Error.WriteLine($"KernelDsl NCCL ring: rank {Rank} of {Size} aborts the ring: {cause.GetType().Name}: {cause.Message}");
        }
    }

    /// <summary>Destroys the NCCL communicator (unless it was aborted), the stream, events and staging buffers, and an owned MPI communicator.</summary>
    public void Dispose()
    {
        if (disposed)
        {
            return;
        }
        disposed = true;
        if (Volatile.Read(ref aborted) == 0)
        {
            NcclNative.Check(NcclNative.CommDestroy(communicator), "ncclCommDestroy");
        }
        sendStage?.Dispose();
        receiveStage?.Dispose();
        CudaDevice.Gpu.MakeCurrent();
        CudaDriver.Check(CudaDriver.cuEventDestroy_v2(exchangeDone), nameof(CudaDriver.cuEventDestroy_v2));
        CudaDriver.Check(CudaDriver.cuEventDestroy_v2(inputsReady), nameof(CudaDriver.cuEventDestroy_v2));
        Stream.Dispose();
        if (ownsBootstrap)
        {
            bootstrap!.Dispose();
        }
    }

    /// <summary>
    /// Asks NCCL for an error raised by its own threads (a peer that vanished, a network failure); null while
    /// all is well. Called by a waiting transfer.
    /// </summary>
    internal RingCommunicationException? AsynchronousError(long sequence)
    {
        if (Volatile.Read(ref broken) is { } failure)
        {
            return failure;
        }
        int error;
        int result = NcclNative.CommGetAsyncError(communicator, &error);
        int code = result != NcclNative.Success ? result : error;
        if (code is NcclNative.Success or NcclNative.InProgress)
        {
            return null;
        }
        var failed = new RingCommunicationException(Rank, sequence, "NCCL reported an error",
            new NcclException("ncclCommGetAsyncError", code, NcclNative.Describe(code)));
        Abort(failed);
        return failed;
    }

    /// <summary>Aborts the NCCL communicator once (GPU work stuck on a dead peer is released) and marks the ring broken.</summary>
    internal void Abort(RingCommunicationException failure)
    {
        Interlocked.CompareExchange(ref broken, failure, null);
        if (Interlocked.Exchange(ref aborted, 1) == 0)
        {
            NcclNative.CommAbort(communicator);
        }
    }

    private static void EnsureUsable()
    {
        NcclNative.EnsureLoaded();
        if (!CudaDevice.IsAvailable)
        {
            throw new NcclUnavailableException($"NCCL is installed but needs a CUDA device: {CudaDevice.UnavailableReason}");
        }
    }

    private static NcclCommunicator Create(MpiCommunicator bootstrap, TimeSpan timeout, bool ownsBootstrap)
    {
        NcclUniqueId id = default;
        if (bootstrap.Rank == 0)
        {
            NcclNative.Check(NcclNative.GetUniqueId(&id), "ncclGetUniqueId");
        }
        bootstrap.Broadcast(id, root: 0);
        return new NcclCommunicator(InitRank(id, bootstrap.Rank, bootstrap.Size), bootstrap.Rank, bootstrap.Size, timeout, bootstrap, ownsBootstrap);
    }

    /// <summary><c>ncclCommInitRank</c> on the process's CUDA device 0; blocks until all ranks have joined.</summary>
    private static IntPtr InitRank(NcclUniqueId id, int rank, int size)
    {
        // NCCL uses the CUDA runtime, which picks up the current context: the primary context of device 0,
        // the one every KernelDsl buffer and stream lives in.
        CudaDevice.Gpu.MakeCurrent();
        IntPtr created;
        NcclNative.Check(NcclNative.CommInitRank(&created, size, id, rank), "ncclCommInitRank");
        return created;
    }

    /// <summary>Grows a staging buffer to at least <paramref name="bytes"/>.</summary>
    private static DeviceBuffer<byte> Stage(ref DeviceBuffer<byte>? stage, int bytes)
    {
        if (stage is null || stage.Length < bytes)
        {
            stage?.Dispose();
            stage = new DeviceBuffer<byte>(bytes, CudaDevice.Gpu);
        }
        return stage;
    }

    private void BeginExchange()
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        if (Volatile.Read(ref broken) is { } cause)
        {
            throw new RingCommunicationException(Rank, nextSequence, $"the ring broke at exchange {cause.Sequence}: {cause.Message}", cause);
        }
        if (lastTransfer is { IsCompleted: false })
        {
            throw new InvalidOperationException(
                $"Rank {Rank} started exchange {nextSequence} before exchange {lastTransfer.Sequence} completed; wait for it first.");
        }
    }

    /// <summary>Issues the send and the receive in one group on <see cref="Stream"/>, then records <see cref="ExchangeDone"/>.</summary>
    private NcclTransfer Enqueue(ulong send, long sendBytes, ulong receive, long receiveBytes, CudaStream? producer, Action? completion)
    {
        IntPtr stream = Stream.Handle;
        CudaDevice.Gpu.MakeCurrent();
        if (producer is not null)
        {
            CudaDriver.Check(CudaDriver.cuEventRecord(inputsReady, producer.Handle), nameof(CudaDriver.cuEventRecord));
            CudaDriver.Check(CudaDriver.cuStreamWaitEvent(stream, inputsReady, 0), nameof(CudaDriver.cuStreamWaitEvent));
        }
        long sequence = nextSequence++;
        int result = NcclNative.GroupStart();
        string function = "ncclGroupStart";
        if (result == NcclNative.Success)
        {
            int sent = NcclNative.Send((void*)send, (nuint)sendBytes, NcclNative.Uint8, (Rank + 1) % Size, communicator, stream);
            int received = NcclNative.Recv((void*)receive, (nuint)receiveBytes, NcclNative.Uint8, (Rank - 1 + Size) % Size, communicator, stream);
            // The group is closed whatever happened inside it, or NCCL stays in group mode.
            int ended = NcclNative.GroupEnd();
            (result, function) = sent != NcclNative.Success ? (sent, "ncclSend")
                : received != NcclNative.Success ? (received, "ncclRecv")
                : (ended, "ncclGroupEnd");
        }
        if (result != NcclNative.Success)
        {
            var failure = new RingCommunicationException(Rank, sequence, $"{function} failed",
                new NcclException(function, result, NcclNative.Describe(result)));
            Abort(failure);
            throw failure;
        }
        CudaDriver.Check(CudaDriver.cuEventRecord(exchangeDone, stream), nameof(CudaDriver.cuEventRecord));
        var transfer = new NcclTransfer(this, sequence, completion);
        lastTransfer = transfer;
        return transfer;
    }
}
