using System;
using System.Collections.Generic;
using KernelDsl.Cuda;

namespace KernelDsl.GpuRunner;

/// <summary>
/// The operands of the timed products at one size (m = n = k = <see cref="Size"/>, dense, so every layout reads the
/// same arrays): made once per element type and role and shared by every kernel and the peer. Random, never zeros.
/// </summary>
internal sealed class OperandPool(int size) : IDisposable
{
    private readonly Dictionary<string, object> entries = new(StringComparer.Ordinal);
    private readonly List<IDisposable> buffers = [];

    public int Size { get; } = size;

    /// <summary>A rows×Size matrix of random values (rows = Size for A and B, 1 for a bias).</summary>
    public Operand<T> Operand<T, TE>(string role, int rows, int seed)
        where T : unmanaged
        where TE : IElement<T>
    {
        string key = $"{TE.Name}:{role}";
        if (entries.TryGetValue(key, out object? found))
        {
            return (Operand<T>)found;
        }
        T[] host = HostData.Matrix<T, TE>(rows, Size, Size, 0, seed);
        var device = new DeviceBuffer<T>(host.Length);
        buffers.Add(device);
        device.CopyFrom(host);
        var operand = new Operand<T>(host, device);
        entries[key] = operand;
        return operand;
    }

    /// <summary>A Size×Size output (host array for reading back, device buffer), one per element type.</summary>
    public Operand<T> Output<T>()
        where T : unmanaged
    {
        string key = $"{typeof(T).Name}:C";
        if (entries.TryGetValue(key, out object? found))
        {
            return (Operand<T>)found;
        }
        var host = new T[(long)Size * Size];
        var device = new DeviceBuffer<T>(host.Length);
        buffers.Add(device);
        var output = new Operand<T>(host, device);
        entries[key] = output;
        return output;
    }

    public void Dispose()
    {
        foreach (var buffer in buffers)
        {
            buffer.Dispose();
        }
        buffers.Clear();
        entries.Clear();
    }
}
