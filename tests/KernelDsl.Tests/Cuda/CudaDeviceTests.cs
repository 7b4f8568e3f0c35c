using KernelDsl.Cuda;
using Xunit;

namespace KernelDsl.Tests.Cuda;

public sealed class CudaDeviceTests
{
    [Fact]
    public void IsAvailable_never_throws_and_agrees_with_the_reason()
    {
        bool available = CudaDevice.IsAvailable;

        Assert.Equal(available, CudaDevice.UnavailableReason is null);
    }

    [NoGpuFact]
    public void Without_a_device_Default_throws_CudaUnavailableException_saying_why()
    {
        CudaUnavailableException error = Assert.Throws<CudaUnavailableException>(() => CudaDevice.Default);

        Assert.Contains("No CUDA device is available", error.Message);
        Assert.Contains(CudaDevice.UnavailableReason!, error.Message);
    }

    [NoGpuFact]
    public void The_reason_names_the_step_that_failed()
    {
        // Here libcuda is absent; on a machine with a driver but no device, cuInit or the count fails.
        string reason = CudaDevice.UnavailableReason!;
        string expected = CudaDriver.TryLoad() ? "cu" : "tried libcuda.so.1, libcuda.so";

        Assert.Contains(expected, reason);
    }

    [NoGpuFact]
    public void Stream_and_event_need_a_device()
    {
        Assert.Throws<CudaUnavailableException>(() => new CudaStream());
        Assert.Throws<CudaUnavailableException>(() => new CudaEvent());
        Assert.Throws<CudaUnavailableException>(() => CudaModule.LoadPtx(".version 7.8"));
    }
}
