using System;
using KernelDsl;
using KernelDsl.Ring;

namespace RingAttentionSample;

/// <summary>
/// Random Q, K, V over the whole sequence (uniform in [−1, 1), rounded to bf16) and each rank's shard of them:
/// under the zigzag layout rank r holds chunks r and 2P−1−r of 2P, local row i being global position
/// <see cref="SequenceShard.GlobalPosition"/>(i).
/// </summary>
internal sealed class Workload
{
    public Workload(int ranks, int sequenceLength, int heads, int kvHeads, int headDim, int seed)
    {
        Ranks = ranks;
        SequenceLength = sequenceLength;
        Heads = heads;
        KvHeads = kvHeads;
        HeadDim = headDim;
        var random = new Random(seed);
        Q = Values(random, heads * sequenceLength * headDim);
        K = Values(random, kvHeads * sequenceLength * headDim);
        V = Values(random, kvHeads * sequenceLength * headDim);
        Shards = new SequenceShard[ranks];
        LocalQ = new BFloat16[ranks][];
        LocalK = new BFloat16[ranks][];
        LocalV = new BFloat16[ranks][];
        for (int rank = 0; rank < ranks; rank++)
        {
            Shards[rank] = LongContext.Shard(sequenceLength, ranks, rank);
            LocalQ[rank] = Gather(Q, heads, Shards[rank]);
            LocalK[rank] = Gather(K, kvHeads, Shards[rank]);
            LocalV[rank] = Gather(V, kvHeads, Shards[rank]);
        }
    }

    public int Ranks { get; }
    public int SequenceLength { get; }
    public int Heads { get; }
    public int KvHeads { get; }
    public int HeadDim { get; }

    /// <summary>Global tensors, [heads or kvHeads, S, d], as floats (exactly the bf16 values the kernel sees).</summary>
    public float[] Q { get; }
    public float[] K { get; }
    public float[] V { get; }

    public SequenceShard[] Shards { get; }
    public BFloat16[][] LocalQ { get; }
    public BFloat16[][] LocalK { get; }
    public BFloat16[][] LocalV { get; }

    /// <summary>Bytes one ring transfer moves: K and V of the longest shard, [kvHeads, Sq, d] each, 2 bytes per value.</summary>
    public long TransferBytes => 2L * KvHeads * Shards[0].LocalLength * HeadDim * 2;

    /// <summary>Useful forward flops: 4·S²·d per head, halved for the causal mask.</summary>
    public double Flops => 4.0 * SequenceLength * SequenceLength * HeadDim * Heads / 2;

    private static float[] Values(Random random, int count)
    {
        var values = new float[count];
        for (int i = 0; i < count; i++)
        {
            values[i] = (float)(BFloat16)(random.NextSingle() * 2 - 1);
        }
        return values;
    }

    private BFloat16[] Gather(float[] global, int heads, SequenceShard shard)
    {
        var local = new BFloat16[heads * shard.LocalLength * HeadDim];
        for (int head = 0; head < heads; head++)
        {
            for (int i = 0; i < shard.LocalLength; i++)
            {
                int from = (head * SequenceLength + shard.GlobalPosition(i)) * HeadDim;
                int to = (head * shard.LocalLength + i) * HeadDim;
                for (int c = 0; c < HeadDim; c++)
                {
                    local[to + c] = (BFloat16)global[from + c];
                }
            }
        }
        return local;
    }
}
