using System;
using Xunit;

namespace KernelDsl.Benchmarks.Tests;

/// <summary>The attention suite's two peers compute exactly the attention its figures say they do.</summary>
public sealed class AttentionPeerTests
{
    public static TheoryData<int, int, bool> Shapes => new()
    {
        { 64, 37, false },
        { 64, 37, true },
        { 128, 19, true },
    };

    [Theory]
    [MemberData(nameof(Shapes))]
    public void OnnxRuntimeMultiHeadAttentionBuiltInCodeMatchesFloat64(int headDim, int sequenceLength, bool causal)
    {
        var shape = new AttentionShape(headDim, sequenceLength, causal);
        var (q, k, v) = Inputs(shape);
        var output = new float[q.Length];
        using (var onnx = new OnnxAttention(shape, shape.ToSequenceMajor(q), shape.ToSequenceMajor(k),
                   shape.ToSequenceMajor(v), output))
        {
            Array.Fill(output, float.NaN);
            onnx.Run();
        }
        var expected = shape.ToSequenceMajor(Array.ConvertAll(ReferenceAttention.Compute(shape, q, k, v), x => (float)x));
        double error = ReferenceAttention.RelativeError(output, Array.ConvertAll(expected, x => (double)x));
        Assert.True(error < 1e-5, $"ONNX Runtime vs float64: relative error {error:E2} for {shape}");
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void NaiveOpenBlasPathMatchesFloat64(int headDim, int sequenceLength, bool causal)
    {
        var shape = new AttentionShape(headDim, sequenceLength, causal);
        var (q, k, v) = Inputs(shape);
        var output = new float[q.Length];
        Array.Fill(output, float.NaN);
        new NaiveAttention(shape).Run(q, k, v, output);
        double error = ReferenceAttention.RelativeError(output, ReferenceAttention.Compute(shape, q, k, v));
        Assert.True(error < 1e-5, $"naive path vs float64: relative error {error:E2} for {shape}");
    }

    private static (float[] Q, float[] K, float[] V) Inputs(AttentionShape shape)
    {
        int count = shape.Heads * shape.SequenceLength * shape.HeadDim;
        return (BenchData.Uniform(count, 11), BenchData.Uniform(count, 12), BenchData.Uniform(count, 13));
    }
}
