using KernelDsl.Cuda;
using Xunit;

namespace KernelDsl.Tests.Cuda;

/// <summary>
/// A fact that needs a CUDA device: skipped, with the reason the runtime gives, where
/// <see cref="CudaDevice.IsAvailable"/> is false (CI machines without a GPU).
/// </summary>
public sealed class GpuFactAttribute : FactAttribute
{
    /// <summary>Marks the test skipped when no device can be used.</summary>
    public GpuFactAttribute()
    {
        if (!CudaDevice.IsAvailable)
        {
            Skip = $"no CUDA device: {CudaDevice.UnavailableReason}";
        }
    }
}
