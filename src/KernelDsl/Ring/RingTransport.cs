namespace KernelDsl.Ring;

/// <summary>
/// How the ranks of a ring reach each other; chosen explicitly (see <see cref="RingTransportFactory"/>),
/// never guessed from the environment.
/// </summary>
public enum RingTransport
{
    /// <summary>All ranks are threads of this process (<see cref="InProcessRing"/>): the default, and the one to test a schedule with.</summary>
    InProcess,

    /// <summary>One rank per process of an MPI job (<see cref="MpiCommunicator"/>, Open MPI), on one machine or across machines; host memory.</summary>
    Mpi,

    /// <summary>One rank per GPU and process (<see cref="NcclCommunicator"/>), bootstrapped over MPI; device memory, or host memory staged through it.</summary>
    Nccl,
}
