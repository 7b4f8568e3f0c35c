namespace KernelDsl.RingHost;

/// <summary>Rank <paramref name="Rank"/> fails when its first pass reaches the exchange of ring step <paramref name="Step"/> (0 ≤ Step &lt; P − 1).</summary>
internal sealed record FaultPlan(int Rank, int Step, FaultMode Mode);
