using KernelDsl.Cuda;
using KernelDsl.Ring;
using Xunit;

namespace KernelDsl.Tests.Mpi;

/// <summary>A fact that runs NCCL on a GPU: skipped, saying which is missing, without libnccl or a CUDA device.</summary>
public sealed class NcclFactAttribute : FactAttribute
{
    /// <summary>Marks the test skipped when NCCL or a device is missing.</summary>
    public NcclFactAttribute()
    {
        if (!NcclNative.IsAvailable)
        {
            Skip = "libnccl.so.2 is not installed";
        }
        else if (!CudaDevice.IsAvailable)
        {
            Skip = $"no CUDA device: {CudaDevice.UnavailableReason}";
        }
    }
}
