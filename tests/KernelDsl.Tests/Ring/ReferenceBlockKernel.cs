using System;
using KernelDsl.Ring;

namespace KernelDsl.Tests.Ring;

/// <summary>
/// A scalar fp32 block kernel in the FlashAttention-2 style, standing in for the generated one so that
/// the ring driver can be tested now: per query row, keys in blocks of <see cref="KeyBlock"/> with a
/// running row max m and sum l (online softmax), exp2 with log₂(e) folded into the scale, then the
/// normalised partial merged into the running state with <see cref="AttentionMerge"/>.
/// </summary>
internal readonly struct ReferenceBlockKernel : IAttentionBlockKernel<float>
{
    /// <summary>Keys per block; small and odd-sized shards exercise the partial last block.</summary>
    private const int KeyBlock = 16;

    public static void Step(
        in AttentionStepArguments arguments,
        ReadOnlySpan<float> q,
        ReadOnlySpan<float> k,
        ReadOnlySpan<float> v,
        Span<float> runningO,
        Span<float> runningLse)
    {
        int d = arguments.HeadDim;
        int queryLength = arguments.QueryLength;
        int keyLength = arguments.KeyLength;
        float scaleLog2 = arguments.ScaleLog2;
        var accumulator = new float[d];
        var scores = new float[KeyBlock];
        for (int head = 0; head < arguments.Heads; head++)
        {
            int kvHead = head / arguments.GroupSize;
            int row = 0;
            foreach (var querySegment in arguments.QueryShard.Segments)
            {
                for (int i = 0; i < querySegment.Length; i++, row++)
                {
                    int queryPosition = querySegment.Position(i);
                    var queryRow = q.Slice((head * queryLength + row) * d, d);
                    // m in log₂ units (max of scaleLog2·q·k), l = Σ 2^{s − m}, accumulator = Σ 2^{s − m}·v.
                    float m = float.NegativeInfinity;
                    float l = 0;
                    Array.Clear(accumulator);
                    int keyRow = 0;
                    foreach (var keySegment in arguments.KeyShard.Segments)
                    {
                        for (int j0 = 0; j0 < keySegment.Length; j0 += KeyBlock)
                        {
                            var block = keySegment.Slice(j0, Math.Min(KeyBlock, keySegment.Length - j0));
                            var visibility = RingMask.Visibility(queryPosition, queryPosition, block.Start, block.Last, arguments.Causal);
                            if (visibility == BlockVisibility.None)
                            {
                                continue;
                            }
                            float blockMax = float.NegativeInfinity;
                            for (int t = 0; t < block.Length; t++)
                            {
                                if (visibility == BlockVisibility.Partial && !RingMask.IsVisible(queryPosition, block.Position(t), causal: true))
                                {
                                    scores[t] = float.NegativeInfinity;
                                    continue;
                                }
                                var keyVector = k.Slice((kvHead * keyLength + keyRow + j0 + t) * d, d);
                                float dot = 0;
                                for (int c = 0; c < d; c++)
                                {
                                    dot += queryRow[c] * keyVector[c];
                                }
                                scores[t] = dot * scaleLog2;
                                blockMax = MathF.Max(blockMax, scores[t]);
                            }
                            if (float.IsNegativeInfinity(blockMax))
                            {
                                continue;
                            }
                            // Rescale what was accumulated against the old max (2^{−∞} = 0 on the first block).
                            float newMax = MathF.Max(m, blockMax);
                            float correction = float.Exp2(m - newMax);
                            l *= correction;
                            for (int c = 0; c < d; c++)
                            {
                                accumulator[c] *= correction;
                            }
                            for (int t = 0; t < block.Length; t++)
                            {
                                float p = float.Exp2(scores[t] - newMax);
                                l += p;
                                var valueVector = v.Slice((kvHead * keyLength + keyRow + j0 + t) * d, d);
                                for (int c = 0; c < d; c++)
                                {
                                    accumulator[c] += p * valueVector[c];
                                }
                            }
                            m = newMax;
                        }
                        keyRow += keySegment.Length;
                    }
                    if (l == 0)
                    {
                        continue; // no visible key in this shard: the partial is (−∞, 0), the merge's identity
                    }
                    for (int c = 0; c < d; c++)
                    {
                        accumulator[c] /= l;
                    }
                    // L = ln Σ e^{logit} = ln(2^m·l) = (m + log₂ l)·ln 2.
                    float lse = (m + MathF.Log2(l)) * MathF.Log(2f);
                    int stateRow = head * queryLength + row;
                    AttentionMerge.MergeRow(runningO.Slice(stateRow * d, d), ref runningLse[stateRow], accumulator, lse);
                }
            }
        }
    }

    public static void Finalize(ReadOnlySpan<float> runningO, ReadOnlySpan<float> runningLse, Span<float> o, Span<float> lse)
    {
        runningO.CopyTo(o);
        runningLse.CopyTo(lse);
    }
}
