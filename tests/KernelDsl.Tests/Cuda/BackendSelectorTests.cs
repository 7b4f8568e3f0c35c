using System;
using KernelDsl.Cuda;
using Xunit;

namespace KernelDsl.Tests.Cuda;

/// <summary>
/// The decision is tested through its state-free core (so no test changes the process-wide
/// default under another); the public entry is exercised where it reads this machine as is.
/// </summary>
public sealed class BackendSelectorTests
{
    private const string NoDevice = "the CUDA driver library could not be loaded";

    [Theory]
    [InlineData(null, KernelBackend.Auto)]
    [InlineData("", KernelBackend.Auto)]
    [InlineData("  ", KernelBackend.Auto)]
    [InlineData("auto", KernelBackend.Auto)]
    [InlineData("cpu", KernelBackend.Cpu)]
    [InlineData("CPU", KernelBackend.Cpu)]
    [InlineData(" Cuda ", KernelBackend.Cuda)]
    public void Environment_values_parse(string? value, KernelBackend expected)
    {
        Assert.Equal(expected, BackendSelector.Parse(value));
    }

    [Theory]
    [InlineData("gpu")]
    [InlineData("cuda,cpu")]
    [InlineData("1")]
    public void Invalid_environment_value_is_a_clear_error(string value)
    {
        InvalidOperationException error = Assert.Throws<InvalidOperationException>(() => BackendSelector.Parse(value));

        Assert.Contains($"KERNELDSL_BACKEND='{value}'", error.Message);
        Assert.Contains("cpu, cuda, emulator or auto", error.Message);
    }

    [Theory]
    [InlineData(KernelBackend.Auto, KernelBackend.Auto, null, KernelBackend.Cuda)]
    [InlineData(KernelBackend.Auto, KernelBackend.Auto, NoDevice, KernelBackend.Cpu)]
    [InlineData(KernelBackend.Auto, KernelBackend.Cpu, null, KernelBackend.Cpu)]
    [InlineData(KernelBackend.Cpu, KernelBackend.Cpu, NoDevice, KernelBackend.Cpu)]
    [InlineData(KernelBackend.Cuda, KernelBackend.Cuda, null, KernelBackend.Cuda)]
    public void Decision_follows_the_request_then_the_default_then_the_device(
        KernelBackend requested, KernelBackend wanted, string? unavailable, KernelBackend expected)
    {
        Assert.Equal(expected, BackendSelector.Resolve(requested, wanted, "by the caller", unavailable));
    }

    [Fact]
    public void Cuda_without_a_device_is_an_error_that_says_who_asked_and_how_to_fall_back()
    {
        CudaUnavailableException error = Assert.Throws<CudaUnavailableException>(
            () => BackendSelector.Resolve(KernelBackend.Auto, KernelBackend.Cuda, "by KERNELDSL_BACKEND=cuda", NoDevice));

        Assert.Contains("requested by KERNELDSL_BACKEND=cuda", error.Message);
        Assert.Contains(NoDevice, error.Message);
        Assert.Contains("KERNELDSL_BACKEND=cpu", error.Message);
    }

    [Fact]
    public void Undefined_backend_is_rejected()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => BackendSelector.Resolve((KernelBackend)42));
        Assert.Throws<ArgumentOutOfRangeException>(() => BackendSelector.Default = (KernelBackend)42);
    }

    [Fact]
    public void Cpu_request_is_always_honoured()
    {
        Assert.Equal(KernelBackend.Cpu, BackendSelector.Resolve(KernelBackend.Cpu));
    }

    [NoGpuFact]
    public void Cuda_request_on_this_machine_fails_with_the_reason()
    {
        CudaUnavailableException error = Assert.Throws<CudaUnavailableException>(() => BackendSelector.Resolve(KernelBackend.Cuda));

        Assert.Contains("requested by the caller", error.Message);
        Assert.Contains(CudaDevice.UnavailableReason!, error.Message);
    }

    [NoGpuFact]
    public void Auto_on_this_machine_runs_on_the_cpu()
    {
        // Unless the environment forces CUDA, which a CPU-only CI would not do.
        Assert.Equal(KernelBackend.Cpu, BackendSelector.Resolve(KernelBackend.Auto));
    }

    [GpuFact]
    public void Cuda_request_with_a_device_is_honoured()
    {
        Assert.Equal(GpuFactAttribute.Backend, BackendSelector.Resolve(GpuFactAttribute.Backend));
    }
}
