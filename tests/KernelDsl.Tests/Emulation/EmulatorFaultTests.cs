using System;
using System.IO;
using System.Linq;
using KernelDsl.Cuda;
using KernelDsl.Emulation;
using Xunit;

namespace KernelDsl.Tests.Emulation;

/// <summary>Faults a GPU would hide, on small hand-written kernels: each an exception naming the kernel and what happened.</summary>
public sealed class EmulatorFaultTests
{
    private const string Kernels = """
        extern "C" __global__ void read_past_end(const float* x, float* y, int n)
        {
            const int i = blockIdx.x * blockDim.x + threadIdx.x;
            if (i <= n) { y[i % n] = x[i]; }
        }

        extern "C" __global__ void barrier_in_branch(float* y)
        {
            if (threadIdx.x < 16) { __syncthreads(); }
            y[threadIdx.x] = 1.0f;
        }

        extern "C" __global__ void neighbour_without_barrier(float* y)
        {
            extern __shared__ float tile[];
            tile[threadIdx.x] = (float)threadIdx.x;
            y[threadIdx.x] = tile[(threadIdx.x + 1) % blockDim.x];
        }

        extern "C" __global__ void misaligned_vector(const float* x, float* y)
        {
            const float4 v = *reinterpret_cast<const float4*>(x + 1);
            y[threadIdx.x] = v.x + v.y + v.z + v.w;
        }
        """;

    [Fact]
    public void An_out_of_bounds_read_names_the_parameter_and_the_index()
    {
        var fault = Launch("read_past_end", 96, 0, (x, y) => new KernelArguments().Add(x).Add(y).Add(64));
        Assert.Contains("out-of-bounds read of 4 bytes at byte 256 of x (256 bytes)", fault.Message);
    }

    [Fact]
    public void A_barrier_not_every_thread_reaches_is_a_divergent_barrier()
    {
        var fault = Launch("barrier_in_branch", 32, 0, (_, y) => new KernelArguments().Add(y));
        Assert.Contains("divergent barrier", fault.Message);
    }

    [Fact]
    public void Reading_another_threads_shared_write_without_a_barrier_is_a_race()
    {
        var fault = Launch("neighbour_without_barrier", 64, 64 * sizeof(float), (_, y) => new KernelArguments().Add(y));
        Assert.Contains("race on shared offset", fault.Message);
    }

    [Fact]
    public void A_vector_load_off_its_alignment_is_misaligned()
    {
        var fault = Launch("misaligned_vector", 32, 0, (x, y) => new KernelArguments().Add(x).Add(y));
        Assert.Contains("misaligned 16-byte read", fault.Message);
    }

    [Fact]
    public void A_missing_compiler_is_a_clear_error()
    {
        var compiler = new EmulatorCompiler(Path.Combine(Path.GetTempPath(), "kerneldsl-no-compiler"), "/nonexistent/g++");
        var error = Assert.Throws<EmulatorUnavailableException>(() => compiler.GetOrBuild(Kernels));
        Assert.Contains("KERNELDSL_CXX=/nonexistent/g++ was not found", error.Message);
    }

    private static EmulatorFaultException Launch(
        string entry, int threads, int sharedBytes, Func<DeviceBuffer<float>, DeviceBuffer<float>, KernelArguments> arguments)
    {
        CudaDevice device = CudaDevice.Emulator;
        using var x = new DeviceBuffer<float>(64, device);
        using var y = new DeviceBuffer<float>(64, device);
        x.CopyFrom(Enumerable.Range(0, 64).Select(i => (float)i).ToArray());
        using var stream = new CudaStream(device);
        CudaFunction function = KernelCache.GetOrLoad(device, Kernels, entry);
        var fault = Assert.Throws<EmulatorFaultException>(() => function.Launch(stream, (1, 1, 1), (threads, 1, 1), sharedBytes, arguments(x, y)));
        Assert.Equal(entry, fault.Kernel);
        Assert.StartsWith(entry + ", block (0, 0, 0)", fault.Message);
        return fault;
    }
}
