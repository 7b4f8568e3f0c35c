using System.Collections.Generic;
using KernelDsl.Cuda;
using Xunit;
using Xunit.Abstractions;
using Xunit.Sdk;

namespace KernelDsl.Tests.Cuda;

/// <summary>
/// A fact that needs a CUDA device: it runs on a GPU, and on the emulator when the process default backend is the
/// emulator (<c>KERNELDSL_BACKEND=emulator</c>; scripts/test.sh runs every such test a second time that way, as its
/// emulator twin, selected by the trait <c>Device=Gpu</c>). Skipped otherwise, with the reason the runtime gives.
/// Tests pass <see cref="Backend"/> where they name a backend, so one body serves both.
/// </summary>
[TraitDiscoverer("KernelDsl.Tests.Cuda.GpuFactAttribute+Discoverer", "KernelDsl.Tests")]
public sealed class GpuFactAttribute : FactAttribute, ITraitAttribute
{
    /// <summary>Marks the test skipped when no device can be used.</summary>
    public GpuFactAttribute()
    {
        if (!CudaDevice.IsAvailable && BackendSelector.Default != KernelBackend.Emulator)
        {
            Skip = $"no CUDA device: {CudaDevice.UnavailableReason} (its emulator twin runs with KERNELDSL_BACKEND=emulator)";
        }
    }

    /// <summary>The backend under test: the emulator in the twin run, else CUDA.</summary>
    public static KernelBackend Backend =>
        BackendSelector.Default == KernelBackend.Emulator ? KernelBackend.Emulator : KernelBackend.Cuda;

    /// <summary>Gives every <see cref="GpuFactAttribute"/> test the trait <c>Device=Gpu</c>.</summary>
    public sealed class Discoverer : ITraitDiscoverer
    {
        /// <inheritdoc/>
        public IEnumerable<KeyValuePair<string, string>> GetTraits(IAttributeInfo traitAttribute)
        {
            yield return new KeyValuePair<string, string>("Device", "Gpu");
        }
    }
}
