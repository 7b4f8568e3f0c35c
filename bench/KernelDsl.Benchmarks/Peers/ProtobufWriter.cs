using System.Collections.Generic;
using System.Text;

namespace KernelDsl.Benchmarks;

/// <summary>
/// Writes one protobuf message in the wire format, enough of it to build an ONNX model in code: varints (wire
/// type 0), fixed 32-bit floats (5) and length-delimited strings and nested messages (2). The ONNX Runtime NuGet
/// package reads models but has no API to build one, and this avoids a dependency on generated ONNX classes.
/// </summary>
public sealed class ProtobufWriter
{
    private readonly List<byte> _bytes = [];

    /// <summary>The message's encoding.</summary>
    public byte[] ToArray() => [.. _bytes];

    /// <summary>An integer field (int32, int64 or enum), as a varint.</summary>
    public ProtobufWriter Int(int field, long value)
    {
        Key(field, 0);
        Varint((ulong)value);
        return this;
    }

    /// <summary>A float field, 4 little-endian bytes.</summary>
    public ProtobufWriter Float(int field, float value)
    {
        Key(field, 5);
        _bytes.AddRange(System.BitConverter.GetBytes(value));
        return this;
    }

    /// <summary>A string field, UTF-8.</summary>
    public ProtobufWriter String(int field, string value) => Bytes(field, Encoding.UTF8.GetBytes(value));

    /// <summary>A nested message field.</summary>
    public ProtobufWriter Message(int field, ProtobufWriter message) => Bytes(field, message.ToArray());

    private ProtobufWriter Bytes(int field, byte[] value)
    {
        Key(field, 2);
        Varint((ulong)value.Length);
        _bytes.AddRange(value);
        return this;
    }

    private void Key(int field, int wireType) => Varint((ulong)(field << 3 | wireType));

    private void Varint(ulong value)
    {
        while (value >= 0x80)
        {
            _bytes.Add((byte)(value | 0x80));
            value >>= 7;
        }
        _bytes.Add((byte)value);
    }
}
