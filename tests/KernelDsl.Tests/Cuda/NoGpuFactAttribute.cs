using KernelDsl.Cuda;
using Xunit;

namespace KernelDsl.Tests.Cuda;

/// <summary>
/// A fact about behaviour without a CUDA device (clear errors, the CPU choice): skipped, saying
/// so, on a machine where a device is available, since the no-device path cannot be reached there.
/// </summary>
public sealed class NoGpuFactAttribute : FactAttribute
{
    /// <summary>Marks the test skipped when a device can be used.</summary>
    public NoGpuFactAttribute()
    {
        if (CudaDevice.IsAvailable)
        {
            Skip = "a CUDA device is available, so the no-device path this test covers cannot be reached";
        }
    }
}
