using System;

namespace KernelDsl.Ring;

/// <summary>
/// Everything a block kernel needs for one ring step besides the tensors: the shape, the softmax
/// scale, the mask and the global positions of the local queries and of the K/V shard.
/// Created by <see cref="RingAttentionDriver"/>; a kernel may rely on it being consistent with the spans it gets.
/// </summary>
public readonly struct AttentionStepArguments
{
    internal AttentionStepArguments(int heads, int kvHeads, int headDim, float scale, bool causal, SequenceShard queryShard, SequenceShard keyShard, bool stateIsInitial)
    {
        StateIsInitial = stateIsInitial;
        Heads = heads;
        KvHeads = kvHeads;
        HeadDim = headDim;
        Scale = scale;
        Causal = causal;
        QueryShard = queryShard;
        KeyShard = keyShard;
    }

    /// <summary>Query heads.</summary>
    public int Heads { get; }

    /// <summary>K/V heads; query head h reads K/V head h / <see cref="GroupSize"/>.</summary>
    public int KvHeads { get; }

    /// <summary>Query heads per K/V head (<see cref="Heads"/> / <see cref="KvHeads"/>).</summary>
    public int GroupSize => Heads / KvHeads;

    /// <summary>Values per head row, d.</summary>
    public int HeadDim { get; }

    /// <summary>Softmax scale: logits are scale·q·k and probabilities e^{logit − max}.</summary>
    public float Scale { get; }

    /// <summary>
    /// <see cref="Scale"/>·log₂(e): with it, e^{scale·q·k − m} = 2^{scaleLog2·q·k − m′} (m′ = m·log₂ e), the
    /// form FlashAttention-2 kernels evaluate with one exp2 and no extra multiply per element.
    /// </summary>
    public float ScaleLog2 => Scale * MathF.Log2(MathF.E);

    /// <summary>Whether query i sees only keys j ≤ i (global positions; see <see cref="RingMask"/>).</summary>
    public bool Causal { get; }

    /// <summary>Positions of the local queries: row i of every head is at <see cref="SequenceShard.GlobalPosition"/>(i).</summary>
    public SequenceShard QueryShard { get; }

    /// <summary>Positions of the K/V shard of this step (its <see cref="SequenceShard.Rank"/> is the source rank).</summary>
    public SequenceShard KeyShard { get; }

    /// <summary>
    /// The running state is still the initial one (O = 0, L = −∞: the first step of a ring, or attention on one
    /// device), so the step may write its partial (O′, L′) into it directly: merged into the identity it is itself.
    /// A row with no visible key is then simply not written. Saves the merge's pass over O.
    /// </summary>
    public bool StateIsInitial { get; }

    /// <summary>Local query rows per head, Sq.</summary>
    public int QueryLength => QueryShard.LocalLength;

    /// <summary>K/V rows per head in this shard, Skv.</summary>
    public int KeyLength => KeyShard.LocalLength;
}
