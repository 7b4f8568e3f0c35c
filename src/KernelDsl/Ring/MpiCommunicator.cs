using System;
using System.Globalization;
using System.Threading;

namespace KernelDsl.Ring;

/// <summary>
/// This process's rank of a ring that spans the processes of an MPI job (one rank per process, started
/// by <c>mpirun -np P</c>, on one machine or across machines): the ring is <c>MPI_COMM_WORLD</c> in rank
/// order, an exchange is an <c>MPI_Irecv</c> from rank − 1 and an <c>MPI_Isend</c> to rank + 1 posted
/// together. Binds Open MPI (<c>libmpi.so.40</c>) at run time; nothing is needed to build.
/// </summary>
/// <remarks>
/// <para>
/// The communicator works on a private duplicate of <c>MPI_COMM_WORLD</c>, so the application's own MPI
/// messages never match the ring's. MPI is initialised with <c>MPI_THREAD_MULTIPLE</c> (the progress
/// thread tests requests while the rank's thread posts and waits, and <see cref="Fail"/> may come from any
/// thread); if the application initialised MPI itself, it must have asked for that level too.
/// </para>
/// <para>
/// A failure cannot be delivered to other processes as an exception. <see cref="Fail"/> therefore ends
/// the whole job with <c>MPI_Abort</c> after writing the cause to standard error. A rank that dies or
/// stops answering is noticed by the others through the <see cref="Timeout"/>: each wait that outlives it
/// throws <see cref="RingCommunicationException"/> naming the rank, the exchange and the side (send or
/// receive) that did not complete; the ring is then broken and the process should exit with an error (see
/// <see cref="Dispose"/>).
/// </para>
/// </remarks>
public sealed unsafe class MpiCommunicator : IRingCommunicator, IDisposable
{
    /// <summary>The error code <see cref="Fail"/> passes to <c>MPI_Abort</c>; <c>mpirun</c> exits with it (EX_SOFTWARE).</summary>
    public const int AbortErrorCode = 70;

    /// <summary>The tag of every ring message (on the ring's own communicator, so any value would do).</summary>
    private const int Tag = 0x4B44;

    // MPI is initialised once per process and cannot be again after MPI_Finalize, so communicators are
    // counted and the last one disposed finalizes, if this class initialised MPI.
    private static readonly Lock ProcessGate = new();
    private static int liveCommunicators;
    private static bool initialisedHere;

    private readonly IntPtr communicator;
    private readonly Thread? progressThread;
    private readonly SemaphoreSlim posted = new(0);
    private readonly TimeSpan progressInterval;
    private long nextSequence;
    private MpiTransfer? lastTransfer;
    private RingCommunicationException? broken;
    private int failed;
    private volatile bool disposed;

    private MpiCommunicator(IntPtr communicator, int rank, int size, MpiCommunicatorOptions options)
    {
        this.communicator = communicator;
        Rank = rank;
        Size = size;
        Timeout = options.Timeout;
        progressInterval = options.ProgressInterval;
        if (progressInterval > TimeSpan.Zero)
        {
            progressThread = new Thread(Progress) { IsBackground = true, Name = $"MPI ring progress (rank {rank})" };
            progressThread.Start();
        }
    }

    /// <summary>Whether Open MPI's library can be loaded here (it says nothing about whether the process runs under <c>mpirun</c>).</summary>
    public static bool IsAvailable => MpiNative.IsAvailable;

    /// <inheritdoc/>
    public int Rank { get; }

    /// <inheritdoc/>
    public int Size { get; }

    /// <inheritdoc/>
    public TimeSpan Timeout { get; }

    /// <summary>Previous rank on the ring, the one this rank receives from.</summary>
    private int Previous => (Rank - 1 + Size) % Size;

    /// <summary>Next rank on the ring, the one this rank sends to.</summary>
    private int Next => (Rank + 1) % Size;

    /// <summary>
    /// Initialises MPI (unless the application already did) with <c>MPI_THREAD_MULTIPLE</c> and returns this
    /// process's rank of the ring over <c>MPI_COMM_WORLD</c>. Collective: every process of the job calls it.
    /// A process started without <c>mpirun</c> is a ring of one.
    /// </summary>
    /// <param name="options">Timeout and progress; defaults when null.</param>
    /// <returns>The communicator; dispose it before the process exits.</returns>
    /// <exception cref="ArgumentException">An option is out of range.</exception>
    /// <exception cref="MpiUnavailableException">
    /// Open MPI is not installed, the library is not Open MPI, or MPI provides a thread level below
    /// <c>MPI_THREAD_MULTIPLE</c>.
    /// </exception>
    /// <exception cref="MpiException">An MPI call failed.</exception>
    /// <exception cref="InvalidOperationException">MPI was already finalized in this process.</exception>
    public static MpiCommunicator Initialize(MpiCommunicatorOptions? options = null)
    {
        options ??= new MpiCommunicatorOptions();
        options.Validate(nameof(options));
        MpiNative.EnsureLoaded();
        lock (ProcessGate)
        {
            int flag;
            MpiNative.Check(MpiNative.Finalized(&flag), "MPI_Finalized");
            if (flag != 0)
            {
                throw new InvalidOperationException("MPI was finalized in this process and cannot be initialised again.");
            }
            MpiNative.Check(MpiNative.Initialized(&flag), "MPI_Initialized");
            int provided;
            if (flag == 0)
            {
                MpiNative.Check(MpiNative.InitThread(null, null, MpiNative.ThreadMultiple, &provided), "MPI_Init_thread");
                initialisedHere = true;
            }
            else
            {
                MpiNative.Check(MpiNative.QueryThread(&provided), "MPI_Query_thread");
            }
            if (provided < MpiNative.ThreadMultiple)
            {
                throw new MpiUnavailableException(
                    $"MPI provides thread level {ThreadLevelName(provided)}, but the MPI ring needs MPI_THREAD_MULTIPLE: its progress " +
                    "thread tests the exchange in flight while the rank's thread computes and posts. Use an Open MPI built with " +
                    "thread support (Debian's is), and if the application calls MPI_Init_thread itself, ask for MPI_THREAD_MULTIPLE.");
            }

            IntPtr ring;
            MpiNative.Check(MpiNative.CommDup(MpiNative.CommWorld, &ring), "MPI_Comm_dup");
            // Errors come back as codes (turned into exceptions naming the rank and exchange) instead of
            // Open MPI's default handler, which aborts the job with a generic message.
            MpiNative.Check(MpiNative.CommSetErrhandler(ring, MpiNative.ErrorsReturn), "MPI_Comm_set_errhandler");
            int rank, size;
            MpiNative.Check(MpiNative.CommRank(ring, &rank), "MPI_Comm_rank");
            MpiNative.Check(MpiNative.CommSize(ring, &size), "MPI_Comm_size");
            liveCommunicators++;
            return new MpiCommunicator(ring, rank, size, options);
        }
    }

    /// <inheritdoc/>
    public RingTransfer StartExchange(ReadOnlyMemory<byte> send, Memory<byte> receive)
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
        var transfer = new MpiTransfer(this, nextSequence++, send, receive, Previous, Next);
        transfer.Post(communicator, Tag);
        // Published only once posted: the progress thread tests whatever it finds here, and requests that do
        // not exist yet are not MPI_REQUEST_NULL but garbage to MPI.
        Volatile.Write(ref lastTransfer, transfer);
        if (progressThread is not null)
        {
            posted.Release();
        }
        return transfer;
    }

    /// <summary>
    /// Copies <paramref name="data"/> of rank <paramref name="root"/> into <paramref name="data"/> of every
    /// other rank (<c>MPI_Bcast</c>), e.g. to share an NCCL unique id. Collective and blocking, without the
    /// ring's timeout; every rank passes the same length.
    /// </summary>
    /// <param name="data">The root's bytes on the root; where they land on the others.</param>
    /// <param name="root">The rank that sends.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="root"/> is not a rank.</exception>
    /// <exception cref="MpiException">The broadcast failed.</exception>
    public void Broadcast(Span<byte> data, int root)
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        ArgumentOutOfRangeException.ThrowIfNegative(root);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(root, Size);
        fixed (byte* bytes = data)
        {
            MpiNative.Check(MpiNative.Bcast(bytes, data.Length, MpiNative.Byte, root, communicator), "MPI_Bcast");
        }
    }

    /// <summary>
    /// Ends the whole MPI job because this rank failed: writes the cause to standard error, then calls
    /// <c>MPI_Abort(MPI_COMM_WORLD, </c><see cref="AbortErrorCode"/><c>)</c>, which makes <c>mpirun</c> kill
    /// every rank and exit with that code. Does not return. The other ranks do not throw: MPI has no way to
    /// raise an exception in another process, so this is the prompt equivalent of the in-process ring's abort.
    /// </summary>
    /// <param name="cause">Why this rank gave up.</param>
    public void Fail(Exception cause)
    {
        ArgumentNullException.ThrowIfNull(cause);
        if (Interlocked.Exchange(ref failed, 1) == 0)
        {
            Console.Out.Flush();
            Console.Error.WriteLine($"KernelDsl MPI ring: rank {Rank} of {Size} aborts the job: {cause.GetType().Name}: {cause.Message}");
            Console.Error.Flush();
            MpiNative.Abort(MpiNative.CommWorld, AbortErrorCode);
        }
        // MPI_Abort does not return; if an MPI library ever did, carrying on would compute on a dead ring.
        Environment.FailFast($"MPI_Abort returned after rank {Rank} failed: {cause.Message}", cause);
    }

    /// <summary>
    /// Stops the progress thread, frees the ring's communicator and, when the last communicator is disposed
    /// and this class initialised MPI, finalizes MPI (collective: every rank disposes). After the ring broke
    /// (a wait timed out or failed) it does neither: a request may still be pending and <c>MPI_Finalize</c>
    /// would wait for the rank that broke the ring, so the process should exit with an error code instead.
    /// </summary>
    public void Dispose()
    {
        if (disposed)
        {
            return;
        }
        disposed = true;
        if (progressThread is not null)
        {
            posted.Release();
            progressThread.Join();
        }
        if (Volatile.Read(ref broken) is not null || lastTransfer is { IsCompleted: false })
        {
            return;
        }
        lock (ProcessGate)
        {
            IntPtr ring = communicator;
            MpiNative.Check(MpiNative.CommFree(&ring), "MPI_Comm_free");
            if (--liveCommunicators == 0 && initialisedHere)
            {
                MpiNative.Check(MpiNative.Finalize(), "MPI_Finalize");
            }
        }
    }

    /// <summary>Marks the ring broken by <paramref name="failure"/>: later exchanges throw, <see cref="Dispose"/> leaves MPI alone.</summary>
    internal void Break(RingCommunicationException failure) => Interlocked.CompareExchange(ref broken, failure, null);

    /// <summary>
    /// The progress thread: for each posted exchange, tests it every <see cref="MpiCommunicatorOptions.ProgressInterval"/>
    /// until it completes or fails, so that Open MPI moves the bytes while the rank computes.
    /// </summary>
    private void Progress()
    {
        while (true)
        {
            posted.Wait();
            if (disposed)
            {
                return;
            }
            var transfer = Volatile.Read(ref lastTransfer);
            while (!disposed && transfer is not null && transfer.Poll() == MpiTransfer.Outcome.Pending)
            {
                Thread.Sleep(progressInterval);
            }
        }
    }

    private static string ThreadLevelName(int level) => level switch
    {
        0 => "MPI_THREAD_SINGLE",
        1 => "MPI_THREAD_FUNNELED",
        2 => "MPI_THREAD_SERIALIZED",
        _ => level.ToString(CultureInfo.InvariantCulture),
    };
}
