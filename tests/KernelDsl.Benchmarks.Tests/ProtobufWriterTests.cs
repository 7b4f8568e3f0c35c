using Xunit;

namespace KernelDsl.Benchmarks.Tests;

/// <summary>The wire format the ONNX model is written in, against the encodings of the protobuf documentation.</summary>
public sealed class ProtobufWriterTests
{
    [Fact]
    public void EncodesVarintsStringsFloatsAndMessages()
    {
        Assert.Equal([0x08, 0x96, 0x01], new ProtobufWriter().Int(1, 150).ToArray());
        Assert.Equal([0x12, 0x07, (byte)'t', (byte)'e', (byte)'s', (byte)'t', (byte)'i', (byte)'n', (byte)'g'], new ProtobufWriter().String(2, "testing").ToArray());
        Assert.Equal([0x1A, 0x03, 0x08, 0x96, 0x01], new ProtobufWriter().Message(3, new ProtobufWriter().Int(1, 150)).ToArray());
        Assert.Equal([0x15, 0x00, 0x00, 0x80, 0x3F], new ProtobufWriter().Float(2, 1f).ToArray());
        Assert.Equal([0x08, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01], new ProtobufWriter().Int(1, -1).ToArray());
    }
}
