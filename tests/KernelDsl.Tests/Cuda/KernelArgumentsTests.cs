using System;
using System.Runtime.InteropServices;
using KernelDsl.Cuda;
using Xunit;

namespace KernelDsl.Tests.Cuda;

public sealed class KernelArgumentsTests
{
    [Fact]
    public void Parameter_array_points_at_each_value_in_order()
    {
        KernelArguments arguments = new KernelArguments().Add(0x1234_5678_9ABC_DEF0UL).Add(-7).Add(1.5f);

        Assert.Equal(3, arguments.Count);
        Assert.Equal(0x1234_5678_9ABC_DEF0L, Marshal.ReadInt64(Parameter(arguments, 0)));
        Assert.Equal(-7, Marshal.ReadInt32(Parameter(arguments, 1)));
        Assert.Equal(1.5f, BitConverter.Int32BitsToSingle(Marshal.ReadInt32(Parameter(arguments, 2))));
    }

    [Fact]
    public void Growing_past_the_initial_capacity_keeps_every_value()
    {
        KernelArguments arguments = new();
        for (int i = 0; i < 40; i++)
        {
            arguments.Add(i * 3);
        }

        for (int i = 0; i < 40; i++)
        {
            Assert.Equal(i * 3, Marshal.ReadInt32(Parameter(arguments, i)));
        }
    }

    [Fact]
    public void Clear_makes_the_builder_reusable()
    {
        KernelArguments arguments = new KernelArguments().Add(1).Add(2);

        arguments.Clear().Add(9);

        Assert.Equal(1, arguments.Count);
        Assert.Equal(9, Marshal.ReadInt32(Parameter(arguments, 0)));
    }

    [Fact]
    public void Buffers_add_their_device_address_and_are_checked()
    {
        DeviceBuffer<float> disposed = new(0);
        disposed.Dispose();

        Assert.Throws<ArgumentNullException>(() => new KernelArguments().Add((DeviceBuffer<float>)null!));
        Assert.Throws<ObjectDisposedException>(() => new KernelArguments().Add(disposed));
        using DeviceBuffer<float> empty = new(0);
        Assert.Equal(0L, Marshal.ReadInt64(Parameter(new KernelArguments().Add(empty), 0)));
    }

    [Theory]
    [InlineData(0, 1, 1, 128, 1, 1, 0, "grid")]
    [InlineData(1, 65536, 1, 128, 1, 1, 0, "grid")]
    [InlineData(1, 1, -1, 128, 1, 1, 0, "grid")]
    [InlineData(1, 1, 1, 0, 1, 1, 0, "block")]
    [InlineData(1, 1, 1, 1025, 1, 1, 0, "block")]
    [InlineData(1, 1, 1, 32, 32, 2, 0, "block")]
    [InlineData(1, 1, 1, 1, 1, 65, 0, "block")]
    [InlineData(1, 1, 1, 65536, 65536, 1, 0, "block")]
    [InlineData(1, 1, 1, 128, 1, 1, -1, "sharedBytes")]
    public void Launch_dimensions_out_of_range_are_rejected_before_the_driver(
        int gx, int gy, int gz, int bx, int by, int bz, int shared, string parameter)
    {
        ArgumentOutOfRangeException error = Assert.Throws<ArgumentOutOfRangeException>(
            () => CudaFunction.ValidateLaunch((gx, gy, gz), (bx, by, bz), shared));

        Assert.Equal(parameter, error.ParamName);
    }

    [Fact]
    public void Launch_dimensions_at_the_limits_pass()
    {
        CudaFunction.ValidateLaunch((int.MaxValue, 65535, 65535), (1024, 1, 1), 0);
        CudaFunction.ValidateLaunch((1, 1, 1), (16, 1, 64), 232448);
    }

    private static IntPtr Parameter(KernelArguments arguments, int index) =>
        Marshal.ReadIntPtr(arguments.ParameterArray, index * IntPtr.Size);
}
