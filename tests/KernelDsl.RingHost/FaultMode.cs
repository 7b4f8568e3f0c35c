namespace KernelDsl.RingHost;

/// <summary>How the faulty rank of a <see cref="FaultPlan"/> fails.</summary>
internal enum FaultMode
{
    /// <summary>Dies: exits with <see cref="Program.FaultExitCode"/> without finalizing MPI, like a crash.</summary>
    Exit,

    /// <summary>Stops answering for twice the timeout (the others must give up first), then exits like <see cref="Exit"/>.</summary>
    Hang,

    /// <summary>Throws where the exchange would start: the driver fails the ring (under MPI, <c>MPI_Abort</c>).</summary>
    Throw,
}
