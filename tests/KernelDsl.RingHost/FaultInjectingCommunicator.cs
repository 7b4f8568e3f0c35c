using System;
using System.Threading;
using KernelDsl.Ring;

namespace KernelDsl.RingHost;

/// <summary>
/// Passes exchanges through to the real communicator, except that on the rank of the <see cref="FaultPlan"/>
/// it fails when the ring reaches the plan's step: before that step's exchange is posted, so whether the
/// other ranks receive what they need does not depend on timing. Exchange 0 of a pass is the description
/// handshake; exchange 1 + s carries the shard of step s + 1.
/// </summary>
internal sealed class FaultInjectingCommunicator(IRingCommunicator inner, FaultPlan plan) : IRingCommunicator
{
    private long exchanges;

    public int Rank => inner.Rank;

    public int Size => inner.Size;

    public TimeSpan Timeout => inner.Timeout;

    public RingTransfer StartExchange(ReadOnlyMemory<byte> send, Memory<byte> receive)
    {
        if (Rank == plan.Rank && exchanges++ == 1 + plan.Step)
        {
            string line = $"RINGHOST rank={Rank} size={Size} result=fault mode={plan.Mode} step={plan.Step}";
            switch (plan.Mode)
            {
                case FaultMode.Exit:
                    Console.WriteLine(line);
                    Environment.Exit(Program.FaultExitCode);
                    break;
                case FaultMode.Hang:
                    Console.WriteLine(line);
                    Thread.Sleep(2 * inner.Timeout);
                    Environment.Exit(Program.FaultExitCode);
                    break;
                default:
                    throw new InvalidOperationException($"Fault injected on rank {Rank} at step {plan.Step}.");
            }
        }
        return inner.StartExchange(send, receive);
    }

    public void Fail(Exception cause) => inner.Fail(cause);
}
