using System;
using System.Collections.Generic;

namespace KernelDsl.Ring;

/// <summary>Creates the communicators of a ring over the chosen <see cref="RingTransport"/>.</summary>
public static class RingTransportFactory
{
    /// <summary>
    /// The ranks of the ring that this process runs: all <paramref name="inProcessRanks"/> of them for
    /// <see cref="RingTransport.InProcess"/>; this process's one rank for <see cref="RingTransport.Mpi"/> and
    /// <see cref="RingTransport.Nccl"/>, whose ring size is the number of processes <c>mpirun</c> started.
    /// </summary>
    /// <param name="transport">The transport.</param>
    /// <param name="inProcessRanks">Ranks of an in-process ring; must be 1 for the other transports.</param>
    /// <param name="timeout">How long a wait may block before the ring is declared broken; <see cref="InProcessRing.DefaultTimeout"/> when null.</param>
    /// <returns>The communicators, rank order. Dispose those that are <see cref="IDisposable"/> (MPI, NCCL) before the process exits.</returns>
    /// <exception cref="ArgumentException"><paramref name="inProcessRanks"/> is not 1 for a transport with one rank per process.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A value is out of range or the transport is unknown.</exception>
    /// <exception cref="MpiUnavailableException">MPI or NCCL was asked for and Open MPI cannot be used.</exception>
    /// <exception cref="NcclUnavailableException">NCCL was asked for and cannot be used (no libnccl, or no CUDA device).</exception>
    public static IReadOnlyList<IRingCommunicator> CreateLocalRanks(RingTransport transport, int inProcessRanks = 1, TimeSpan? timeout = null)
    {
        if (transport is RingTransport.Mpi or RingTransport.Nccl && inProcessRanks != 1)
        {
            throw new ArgumentException(
                $"{transport} runs one rank per process ({inProcessRanks} asked for): start P processes with mpirun -np P instead.", nameof(inProcessRanks));
        }
        var wait = timeout ?? InProcessRing.DefaultTimeout;
        return transport switch
        {
            RingTransport.InProcess => InProcessRing.Create(inProcessRanks, wait),
            RingTransport.Mpi => [MpiCommunicator.Initialize(new MpiCommunicatorOptions { Timeout = wait })],
            RingTransport.Nccl => [NcclCommunicator.CreateOverMpi(wait)],
            _ => throw new ArgumentOutOfRangeException(nameof(transport), transport, "Not a ring transport."),
        };
    }
}
