using System;
using System.Collections.Generic;

namespace KernelDsl.Ring;

/// <summary>
/// The ranks of a ring were given different descriptions of the attention (head dimension, heads, K/V
/// heads, sequence length, element type, layout, mask or scale): found by the handshake that precedes the
/// first K/V exchange of <see cref="RingAttentionDriver.Forward"/>, before anything is computed.
/// </summary>
/// <remarks>
/// The rank that receives a different description throws this and fails the ring, so every other rank
/// stops too: in one process they throw <see cref="RingCommunicationException"/> carrying this exception;
/// under MPI the job is aborted after this message is written.
/// </remarks>
public sealed class RingConfigurationException : Exception
{
    internal RingConfigurationException(int rank, int otherRank, IReadOnlyList<string> fields, string differences)
        : base($"Ring rank {rank}: rank {otherRank} describes a different ring attention than this rank ({differences}); " +
            "every rank must pass the same options and element type. Found by the handshake before the first K/V exchange, before this rank computed anything.")
    {
        Rank = rank;
        OtherRank = otherRank;
        Fields = fields;
    }

    /// <summary>The rank that found the difference.</summary>
    public int Rank { get; }

    /// <summary>The rank whose description differs from that of <see cref="Rank"/>: the one it receives from.</summary>
    public int OtherRank { get; }

    /// <summary>
    /// The names of the fields that differ, as the <see cref="RingAttentionOptions"/> properties are named
    /// (<c>HeadDim</c>, <c>Heads</c>, <c>KvHeads</c>, <c>SequenceLength</c>, <c>Layout</c>, <c>Causal</c>,
    /// <c>Scale</c>), or <c>Element</c>, <c>Ranks</c>, <c>Neighbour</c>, <c>Header</c>.
    /// </summary>
    public IReadOnlyList<string> Fields { get; }
}
