using System;
using KernelDsl.Ring;

namespace KernelDsl.RingHost;

/// <summary>
/// Runs ring attention on this process's rank(s), checks the result against float64 attention over the
/// whole sequence and prints one line per rank (see <see cref="HostOptions.Usage"/>); the exit code says how it went.
/// </summary>
internal static class Program
{
    public const int OkExitCode = 0;
    public const int MismatchExitCode = 1;
    public const int RingBrokenExitCode = 2;
    public const int FaultExitCode = 3;
    public const int UsageExitCode = 64;
    public const int UnavailableExitCode = 69;
    public const int ErrorExitCode = 70;

    public static int Main(string[] args)
    {
        HostOptions options;
        try
        {
            options = HostOptions.Parse(args);
        }
        catch (Exception exception) when (exception is ArgumentException or FormatException or OverflowException)
        {
            Console.Error.WriteLine($"KernelDsl.RingHost: {exception.Message}");
            Console.Error.WriteLine(HostOptions.Usage);
            return UsageExitCode;
        }
        HostKernel kernel;
        try
        {
            kernel = KernelCatalog.Find(options);
        }
        catch (ArgumentException exception)
        {
            Console.Error.WriteLine($"KernelDsl.RingHost: {exception.Message}");
            return UsageExitCode;
        }
        return options.Transport == RingTransport.InProcess ? RunInProcess(kernel, options) : RunThisRank(kernel, options);
    }

    private static int Execute(IRingCommunicator communicator, HostKernel kernel, HostOptions options) =>
        options.LinkProbe ? LinkProbe.Execute(communicator, options) : RankRun.Execute(communicator, kernel, options);

    /// <summary>Every rank on its own thread; the exit code is the worst rank's.</summary>
    private static int RunInProcess(HostKernel kernel, HostOptions options)
    {
        var ring = InProcessRing.Create(options.InProcessRanks, options.Timeout);
        var codes = new int[ring.Count];
        InProcessRing.RunRanks(ring, communicator => codes[communicator.Rank] = Execute(communicator, kernel, options));
        int worst = OkExitCode;
        foreach (int code in codes)
        {
            worst = Math.Max(worst, code);
        }
        return worst;
    }

    /// <summary>This process's rank of an MPI or NCCL ring.</summary>
    private static int RunThisRank(HostKernel kernel, HostOptions options)
    {
        IRingCommunicator communicator;
        try
        {
            communicator = options.Transport == RingTransport.Mpi
                ? MpiCommunicator.Initialize(new MpiCommunicatorOptions { Timeout = options.Timeout, ProgressInterval = options.ProgressInterval })
                : NcclCommunicator.CreateOverMpi(options.Timeout);
        }
        catch (Exception exception) when (exception is MpiUnavailableException or NcclUnavailableException)
        {
            Console.Error.WriteLine($"KernelDsl.RingHost: {exception.Message}");
            return UnavailableExitCode;
        }
        int result = Execute(communicator, kernel, options);
        // After a broken ring MPI cannot be finalized (it would wait for the rank that is gone); exiting
        // without it, with an error code, is what ends the job.
        if (result != RingBrokenExitCode)
        {
            ((IDisposable)communicator).Dispose();
        }
        return result;
    }
}
