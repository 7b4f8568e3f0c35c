namespace KernelDsl.Benchmarks;

/// <summary>
/// Self-attention forward over one sequence: <see cref="Heads"/> heads of <see cref="HeadDim"/> (model width
/// Heads·HeadDim = 512 in every case), <see cref="SequenceLength"/> queries and keys, causal or not.
/// </summary>
public sealed record AttentionShape(int HeadDim, int SequenceLength, bool Causal) : IWorkload
{
    /// <summary>Model width shared by every case, so d = 64 runs 8 heads and d = 128 runs 4.</summary>
    public const int Width = 512;

    /// <summary>Query heads (= K/V heads).</summary>
    public int Heads => Width / HeadDim;

    /// <summary>softmax(scale·q·k)·v with the usual scale 1/√d.</summary>
    public float Scale => 1f / float.Sqrt(HeadDim);

    /// <summary>4·S²·d per head, halved under the causal mask.</summary>
    public double Flops => 4.0 * SequenceLength * SequenceLength * HeadDim * Heads / (Causal ? 2 : 1);

    /// <summary>At 4k tokens: at least ONNX Runtime's speed and 3× the naive path; none at 1k.</summary>
    public double? Target(string ours, string peer) => SequenceLength < 4096 ? null : peer == AttentionBenchmarks.NaivePeer ? 3.0 : 1.0;

    /// <summary>[heads, S, d] (ours, the naive path) → [S, heads·d] (ONNX Runtime's layout).</summary>
    public float[] ToSequenceMajor(float[] headMajor)
    {
        var result = new float[headMajor.Length];
        for (int head = 0; head < Heads; head++)
        {
            for (int i = 0; i < SequenceLength; i++)
            {
                System.Array.Copy(headMajor, (head * SequenceLength + i) * HeadDim, result, (i * Heads + head) * HeadDim, HeadDim);
            }
        }
        return result;
    }

    /// <summary>By sequence length, then head dimension, unmasked first.</summary>
    public int CompareTo(object? other) => other is AttentionShape shape
        ? (SequenceLength, HeadDim, Causal).CompareTo((shape.SequenceLength, shape.HeadDim, shape.Causal))
        : 1;

    /// <inheritdoc />
    public override string ToString() => $"d={HeadDim} S={SequenceLength / 1024}k{(Causal ? " causal" : "")}";
}
