using System.Collections.Generic;
using System.Linq;

namespace KernelDsl.Benchmarks;

/// <summary>
/// Ours against one peer on one case: the ratio of speeds, peer time / our time (for the ring suite, compute alone /
/// ring: the overlap efficiency), at the medians, with the spread the quartiles allow and issue #6's target.
/// </summary>
public sealed record Ratio(CaseResult Ours, CaseResult Peer)
{
    /// <summary>Median peer time / median time of ours: above 1, ours is faster.</summary>
    public double Value => Peer.Median / Ours.Median;

    /// <summary>The lowest ratio the quartiles allow (fast peer, slow ours).</summary>
    public double Low => Peer.Q1 / Ours.Q3;

    /// <summary>The highest ratio the quartiles allow.</summary>
    public double High => Peer.Q3 / Ours.Q1;

    /// <summary>The target for this pair, if issue #6 sets one.</summary>
    public double? Target => Ours.Workload.Target(Ours.Method, Peer.Method);

    /// <summary>Every pair (ours, peer) of the same suite and case.</summary>
    public static IReadOnlyList<Ratio> Pair(IEnumerable<CaseResult> results) =>
        [.. from ours in results
            where ours.Role == Benchmarks.Role.Ours
            from peer in results
            where peer.Role == Benchmarks.Role.Peer && Equals(peer.Suite, ours.Suite) && Equals(peer.Workload, ours.Workload)
            select new Ratio(ours, peer)];
}
