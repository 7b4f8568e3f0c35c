using System;
using KernelDsl.Cuda;
using Xunit;

namespace KernelDsl.Tests.Cuda;

/// <summary>
/// Argument checks come before any driver call, so they hold without a GPU; an empty buffer
/// never touches the driver at all.
/// </summary>
public sealed class DeviceBufferTests
{
    [Fact]
    public void Negative_length_is_rejected_before_the_driver_is_touched()
    {
        ArgumentOutOfRangeException error = Assert.Throws<ArgumentOutOfRangeException>(() => new DeviceBuffer<float>(-1));

        Assert.Equal("length", error.ParamName);
    }

    [Fact]
    public void Empty_buffer_allocates_nothing_and_copies_empty_spans()
    {
        using DeviceBuffer<float> buffer = new(0);

        buffer.CopyFrom(ReadOnlySpan<float>.Empty);
        buffer.CopyTo(Span<float>.Empty);
        buffer.Fill(float.NaN);
        Assert.Equal(0, buffer.Length);
        Assert.Equal(0, buffer.SizeInBytes);
        Assert.Equal(0UL, buffer.Pointer);
    }

    [Fact]
    public void Copies_of_another_length_name_the_span()
    {
        using DeviceBuffer<float> buffer = new(0);

        ArgumentException from = Assert.Throws<ArgumentException>(() => buffer.CopyFrom(new float[3]));
        ArgumentException to = Assert.Throws<ArgumentException>(() => buffer.CopyTo(new float[2]));

        Assert.Equal("source", from.ParamName);
        Assert.Equal("destination", to.ParamName);
        Assert.Contains("holds 0 elements of Single but the span has 3", from.Message);
    }

    [Fact]
    public void Fill_refuses_element_sizes_the_driver_cannot_set()
    {
        using DeviceBuffer<double> buffer = new(0);

        NotSupportedException error = Assert.Throws<NotSupportedException>(() => buffer.Fill(double.NaN));

        Assert.Contains("Double has 8 bytes", error.Message);
    }

    [Fact]
    public void Dispose_is_idempotent_and_later_use_throws()
    {
        DeviceBuffer<int> buffer = new(0);

        buffer.Dispose();
        buffer.Dispose();

        Assert.Throws<ObjectDisposedException>(() => buffer.Pointer);
        Assert.Throws<ObjectDisposedException>(() => buffer.CopyFrom(ReadOnlySpan<int>.Empty));
        Assert.Throws<ObjectDisposedException>(() => buffer.CopyTo(Span<int>.Empty));
        Assert.Throws<ObjectDisposedException>(() => buffer.Fill(0));
    }

    [NoGpuFact]
    public void Non_empty_buffer_without_a_device_says_why()
    {
        CudaUnavailableException error = Assert.Throws<CudaUnavailableException>(() => new DeviceBuffer<float>(16));

        Assert.Contains(CudaDevice.UnavailableReason!, error.Message);
    }
}
