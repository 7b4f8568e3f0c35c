namespace KernelDsl.Ring;

/// <summary>
/// The attention mask, stated on global positions only: a query at position i sees the key at
/// position j iff the mask is not causal or j ≤ i. No layout appears here; every per-layout rule
/// (which ring step is full, causal, strictly causal or skipped) follows from the positions that
/// <see cref="SequenceShard"/> assigns.
/// </summary>
/// <remarks>
/// <para>
/// A block pairs a run of queries whose positions lie in [q₀, q₁] with a run of keys in [k₀, k₁]
/// (first and last positions: local order is position order in every layout). Under a causal mask:
/// if k₀ &gt; q₁ every key lies after every query, so <see cref="BlockVisibility.None"/>; if k₁ ≤ q₀ every
/// key lies at or before every query, so <see cref="BlockVisibility.Full"/>; otherwise the query q₁ sees
/// the key k₀ and the query q₀ does not see the key k₁, so the block is genuinely
/// <see cref="BlockVisibility.Partial"/>. The classification is therefore exact, not conservative.
/// </para>
/// <para>How the per-layout rules of the ring follow, for query rank r and key source rank src:</para>
/// <list type="bullet">
/// <item><description>
/// Contiguous: ranks hold consecutive ranges in rank order, so src &lt; r gives k₁ &lt; q₀ (Full: earlier
/// blocks are full), src &gt; r gives k₀ &gt; q₁ (None: later blocks are skipped) and src = r is the
/// diagonal block (Partial: causal).
/// </description></item>
/// <item><description>
/// Striped: query i is at i·P + r and key j at j·P + src with 0 ≤ r, src &lt; P, so j·P + src ≤ i·P + r
/// holds iff j &lt; i, or j = i and src ≤ r. Hence src ≤ r is causal including the diagonal (j ≤ i) and
/// src &gt; r is strictly causal (j &lt; i). The segment bounds overlap, so the pair is Partial and the
/// per-element test on positions is exactly that rule.
/// </description></item>
/// <item><description>
/// Zigzag: rank r holds chunks r and 2P−1−r, source src chunks src and 2P−1−src, chunks in position
/// order. Step 0 (src = r): (r, r) and (2P−1−r, 2P−1−r) are diagonal (Partial), (2P−1−r, r) is Full and
/// (r, 2P−1−r) is None: local causal attention. src &lt; r: chunk src precedes both query chunks (Full) and
/// chunk 2P−1−src follows both (None), so all of Q attends to the first half of the incoming K/V.
/// src &gt; r: both key chunks lie between r and 2P−1−r, so the first query chunk sees nothing (None) and
/// the second sees everything (Full): the second half of Q attends to all of it. Every case costs two
/// chunk × chunk products (step 0: two causal halves and one full), the same on every rank.
/// </description></item>
/// </list>
/// </remarks>
public static class RingMask
{
    /// <summary>Whether the query at <paramref name="queryPosition"/> sees the key at <paramref name="keyPosition"/>.</summary>
    /// <param name="queryPosition">Global position of the query.</param>
    /// <param name="keyPosition">Global position of the key.</param>
    /// <param name="causal">Whether the mask is causal.</param>
    /// <returns><c>!causal || keyPosition ≤ queryPosition</c>.</returns>
    public static bool IsVisible(int queryPosition, int keyPosition, bool causal) => !causal || keyPosition <= queryPosition;

    /// <summary>Classifies a block from the position bounds of its queries and keys (each non-empty).</summary>
    /// <param name="queryFirst">Smallest query position.</param>
    /// <param name="queryLast">Largest query position.</param>
    /// <param name="keyFirst">Smallest key position.</param>
    /// <param name="keyLast">Largest key position.</param>
    /// <param name="causal">Whether the mask is causal.</param>
    /// <returns>Full, Partial or None, exactly (see the remarks on <see cref="RingMask"/>).</returns>
    public static BlockVisibility Visibility(int queryFirst, int queryLast, int keyFirst, int keyLast, bool causal)
    {
        if (!causal || keyLast <= queryFirst)
        {
            return BlockVisibility.Full;
        }
        return keyFirst > queryLast ? BlockVisibility.None : BlockVisibility.Partial;
    }

    /// <summary>Classifies the block of a query segment against a key segment; an empty segment gives None.</summary>
    /// <param name="query">The queries' positions (a shard segment or a tile of one).</param>
    /// <param name="key">The keys' positions.</param>
    /// <param name="causal">Whether the mask is causal.</param>
    /// <returns>Full, Partial or None, exactly.</returns>
    public static BlockVisibility Visibility(SequenceSegment query, SequenceSegment key, bool causal) =>
        query.Length == 0 || key.Length == 0
            ? BlockVisibility.None
            : Visibility(query.Start, query.Last, key.Start, key.Last, causal);
}
