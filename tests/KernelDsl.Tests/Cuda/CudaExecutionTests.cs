using System;
using System.Linq;
using KernelDsl.Cuda;
using Xunit;

namespace KernelDsl.Tests.Cuda;

/// <summary>
/// The runtime on a real device: allocation, copies, fills, compile-load-launch through the
/// kernel cache, opting into large shared memory, timing and driver errors. Skipped (saying
/// why) on machines without a CUDA device.
/// </summary>
public sealed class CudaExecutionTests
{
    private const string Saxpy = """
        extern "C" __global__ void saxpy(float* y, const float* x, float a, int n)
        {
            const int i = blockIdx.x * blockDim.x + threadIdx.x;
            if (i < n) { y[i] = a * x[i] + y[i]; }
        }
        """;

    // Reverses a block's worth of floats through dynamic shared memory sized by the launch.
    private const string Reverse = """
        extern "C" __global__ void reverse_tile(const float* x, float* y, int n)
        {
            extern __shared__ float tile[];
            for (int i = threadIdx.x; i < n; i += blockDim.x) { tile[i] = x[i]; }
            __syncthreads();
            for (int i = threadIdx.x; i < n; i += blockDim.x) { y[i] = tile[n - 1 - i]; }
        }
        """;

    [GpuFact]
    public void Device_reports_its_properties()
    {
        CudaDevice device = CudaDevice.Default;

        Assert.False(string.IsNullOrWhiteSpace(device.Name));
        Assert.InRange(device.Arch, 50, 200);
        Assert.True(device.MultiprocessorCount > 0);
        Assert.Equal(48 * 1024, device.MaxSharedBytesPerBlock);
        Assert.True(device.MaxSharedBytesPerBlockOptin >= device.MaxSharedBytesPerBlock);
        Assert.True(device.TotalMemory > 1L << 30);
        Assert.Same(device, CudaDevice.Default);
    }

    [GpuFact]
    public void Buffers_round_trip_and_fill()
    {
        float[] host = Enumerable.Range(0, 1000).Select(i => i * 0.5f).ToArray();
        using DeviceBuffer<float> buffer = new(host.Length);
        using CudaStream stream = new();

        buffer.CopyFrom(host);
        float[] back = new float[host.Length];
        buffer.CopyTo(back);
        Assert.Equal(host, back);

        buffer.Fill(float.NaN);
        buffer.CopyTo(back, stream);
        Assert.All(back, value => Assert.True(float.IsNaN(value)));

        buffer.CopyFrom(host, stream);
        buffer.CopyTo(back);
        Assert.Equal(host, back);
        Assert.NotEqual(0UL, buffer.Pointer);
    }

    [GpuFact]
    public void Half_buffers_fill_with_two_byte_nan()
    {
        using DeviceBuffer<Half> buffer = new(33);

        buffer.Fill(Half.NaN);
        Half[] back = new Half[33];
        buffer.CopyTo(back);

        Assert.All(back, value => Assert.True(Half.IsNaN(value)));
    }

    [GpuFact]
    public void Cached_kernel_launches_and_writes_every_element()
    {
        const int n = 10_000;
        float[] x = Enumerable.Range(0, n).Select(i => (float)Math.Sin(i)).ToArray();
        float[] y = Enumerable.Range(0, n).Select(i => (float)Math.Cos(i)).ToArray();
        using DeviceBuffer<float> dx = new(n);
        using DeviceBuffer<float> dy = new(n);
        using CudaStream stream = new();
        dx.CopyFrom(x);
        dy.CopyFrom(y);

        CudaFunction saxpy = KernelCache.GetOrLoad(Saxpy, "saxpy");
        Assert.Same(saxpy, KernelCache.GetOrLoad(Saxpy, "saxpy"));
        KernelArguments arguments = new KernelArguments().Add(dy).Add(dx).Add(2.0f).Add(n);
        saxpy.Launch(stream, ((n + 255) / 256, 1, 1), (256, 1, 1), 0, arguments);
        float[] result = new float[n];
        dy.CopyTo(result, stream);

        for (int i = 0; i < n; i++)
        {
            Assert.Equal(2.0f * x[i] + y[i], result[i], 1e-6f);
        }

        // Registers are the GPU compiler's choice; the emulator reports none.
        Assert.InRange(saxpy.Registers, CudaDevice.Default.IsEmulated ? 0 : 1, ArchitectureLimits.MaxRegistersPerThread);
        Assert.Equal(0, saxpy.LocalBytes);
    }

    [GpuFact]
    public void Launch_with_more_than_48_KiB_of_dynamic_shared_memory_opts_in()
    {
        CudaDevice device = CudaDevice.Default;
        int n = (device.MaxSharedBytesPerBlockOptin / sizeof(float)) - 256;
        Assert.True(n * sizeof(float) > 48 * 1024, "the device allows more than 48 KiB per block");
        float[] x = Enumerable.Range(0, n).Select(i => (float)i).ToArray();
        using DeviceBuffer<float> dx = new(n);
        using DeviceBuffer<float> dy = new(n);
        using CudaStream stream = new();
        dx.CopyFrom(x);
        dy.Fill(float.NaN);

        CudaFunction reverse = KernelCache.GetOrLoad(Reverse, "reverse_tile");
        reverse.Launch(stream, (1, 1, 1), (256, 1, 1), n * sizeof(float), new KernelArguments().Add(dx).Add(dy).Add(n));
        float[] y = new float[n];
        dy.CopyTo(y, stream);

        Assert.Equal(x.Reverse(), y);
        Assert.Throws<ArgumentOutOfRangeException>(() => reverse.SetMaxDynamicSharedMemory(device.MaxSharedBytesPerBlockOptin + 1));
    }

    [GpuFact]
    public void Events_time_work_on_a_stream()
    {
        using CudaStream stream = new();
        using CudaEvent start = new();
        using CudaEvent end = new();
        using DeviceBuffer<float> buffer = new(1 << 20);

        start.Record(stream);
        buffer.Fill(1.0f);
        end.Record(stream);

        Assert.True(CudaEvent.ElapsedMilliseconds(start, end) >= 0);
    }

    [GpuFact]
    public void Cubin_for_an_older_architecture_family_falls_back_to_ptx()
    {
        // sm_75 code does not run on sm_80 or later, so the cache loads PTX for sm_75 instead.
        CudaFunction saxpy = KernelCache.GetOrLoad(Saxpy, "saxpy", 75);

        Assert.Equal("saxpy", saxpy.Name);
    }

    [GpuFact]
    public void Driver_errors_name_the_call()
    {
        // The emulator loads CUDA C only, so its twin looks the name up in the emulated saxpy library.
        CudaException missing = Assert.Throws<CudaException>(() => CudaDevice.Default.IsEmulated
            ? KernelCache.GetOrLoad(Saxpy, "no_such_kernel")
            : CudaModule.LoadPtx(NvrtcPtx()).GetFunction("no_such_kernel"));

        Assert.Equal("cuModuleGetFunction", missing.Call);
        Assert.Equal("CUDA_ERROR_NOT_FOUND", missing.ErrorName);
    }

    [GpuFact]
    public void Disposed_objects_refuse_use()
    {
        CudaStream stream = new();
        stream.Dispose();
        stream.Dispose();
        using DeviceBuffer<float> buffer = new(4);

        Assert.Throws<ObjectDisposedException>(stream.Synchronize);
        Assert.Throws<ObjectDisposedException>(() => buffer.CopyTo(new float[4], stream));
    }

    private static string NvrtcPtx() =>
        System.Text.Encoding.UTF8.GetString(
            NvrtcCompiler.Compile(Saxpy, "saxpy.cu", new CudaTarget(CudaDevice.Default.Arch, CudaOutput.Ptx)).Image);
}
