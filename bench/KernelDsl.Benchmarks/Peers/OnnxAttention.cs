using System;
using Microsoft.ML.OnnxRuntime;

namespace KernelDsl.Benchmarks;

/// <summary>
/// The ONNX Runtime peer of the attention suite: a one-node graph, <c>com.microsoft.MultiHeadAttention</c>
/// (query, key, value of [1, S, heads·d] in, output of the same shape out; <c>unidirectional</c> = 1 for the
/// causal mask), built in code and run by the CPU execution provider on 2 threads, with its inputs and output
/// bound once to pinned arrays so a run measures the operator and not the marshalling.
/// </summary>
public sealed class OnnxAttention : IDisposable
{
    private readonly InferenceSession _session;
    private readonly RunOptions _run = new();
    private readonly OrtValue[] _inputs;
    private readonly OrtValue[] _outputs;
    private static readonly string[] InputNames = ["query", "key", "value"];
    private static readonly string[] OutputNames = ["output"];

    /// <summary>A session for <paramref name="shape"/> over the [1, S, heads·d] arrays given; <see cref="Run"/> fills <paramref name="output"/>.</summary>
    public OnnxAttention(AttentionShape shape, float[] query, float[] key, float[] value, float[] output)
    {
        using var options = new SessionOptions
        {
            IntraOpNumThreads = 2,
            InterOpNumThreads = 1,
            ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
            GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
        };
        _session = new InferenceSession(Model(shape), options);
        long[] dimensions = [1, shape.SequenceLength, AttentionShape.Width];
        _inputs = [.. Array.ConvertAll(new[] { query, key, value }, data => OrtValue.CreateTensorValueFromMemory(data, dimensions))];
        _outputs = [OrtValue.CreateTensorValueFromMemory(output, dimensions)];
    }

    /// <summary>One forward pass.</summary>
    public void Run() => _session.Run(_run, InputNames, _inputs, OutputNames, _outputs);

    /// <inheritdoc />
    public void Dispose()
    {
        foreach (var value in _inputs)
        {
            value.Dispose();
        }
        _outputs[0].Dispose();
        _run.Dispose();
        _session.Dispose();
    }

    /// <summary>The ModelProto (onnx.proto field numbers): IR 8, opsets "" 17 and com.microsoft 1, one node.</summary>
    private static byte[] Model(AttentionShape shape)
    {
        var node = new ProtobufWriter()
            .String(1, "query").String(1, "key").String(1, "value")        // NodeProto.input
            .String(2, "output")                                            // output
            .String(3, "attention")                                         // name
            .String(4, "MultiHeadAttention")                                // op_type
            .Message(5, IntAttribute("num_heads", shape.Heads))             // attribute
            .Message(5, IntAttribute("unidirectional", shape.Causal ? 1 : 0))
            .Message(5, new ProtobufWriter().String(1, "scale").Float(2, shape.Scale).Int(20, 1))  // AttributeProto FLOAT
            .String(7, "com.microsoft");                                    // domain
        var graph = new ProtobufWriter()
            .Message(1, node)
            .String(2, "kerneldsl_attention_peer")
            .Message(11, Tensor("query", shape)).Message(11, Tensor("key", shape)).Message(11, Tensor("value", shape))
            .Message(12, Tensor("output", shape));
        return new ProtobufWriter()
            .Int(1, 8)                                                       // ir_version
            .String(2, "KernelDsl.Benchmarks")                               // producer_name
            .Message(7, graph)
            .Message(8, new ProtobufWriter().String(1, "").Int(2, 17))       // opset_import
            .Message(8, new ProtobufWriter().String(1, "com.microsoft").Int(2, 1))
            .ToArray();
    }

    /// <summary>AttributeProto of type INT (2).</summary>
    private static ProtobufWriter IntAttribute(string name, long value) => new ProtobufWriter().String(1, name).Int(3, value).Int(20, 2);

    /// <summary>ValueInfoProto of a float (elem_type 1) tensor [1, S, width].</summary>
    private static ProtobufWriter Tensor(string name, AttentionShape shape)
    {
        var dimensions = new ProtobufWriter()
            .Message(1, new ProtobufWriter().Int(1, 1))
            .Message(1, new ProtobufWriter().Int(1, shape.SequenceLength))
            .Message(1, new ProtobufWriter().Int(1, AttentionShape.Width));
        var tensor = new ProtobufWriter().Int(1, 1).Message(2, dimensions);
        return new ProtobufWriter().String(1, name).Message(2, new ProtobufWriter().Message(1, tensor));
    }
}
