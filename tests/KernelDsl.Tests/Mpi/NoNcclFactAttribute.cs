using KernelDsl.Ring;
using Xunit;

namespace KernelDsl.Tests.Mpi;

/// <summary>A fact about the NCCL ring where NCCL is absent (a clear error): skipped, saying so, where libnccl loads.</summary>
public sealed class NoNcclFactAttribute : FactAttribute
{
    /// <summary>Marks the test skipped when NCCL can be loaded.</summary>
    public NoNcclFactAttribute()
    {
        if (NcclNative.IsAvailable)
        {
            Skip = "libnccl is installed here, so the missing-NCCL path this test covers cannot be reached";
        }
    }
}
