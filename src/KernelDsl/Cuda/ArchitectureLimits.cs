using System;

namespace KernelDsl.Cuda;

/// <summary>Per-architecture hardware limits that a kernel plan must stay within.</summary>
public static class ArchitectureLimits
{
    /// <summary>Registers one thread can address (every architecture from sm_35 on).</summary>
    public const int MaxRegistersPerThread = 255;

    /// <summary>Static shared memory per block; more needs dynamic shared memory and an opt-in.</summary>
    public const int MaxStaticSharedBytesPerBlock = 48 * 1024;

    /// <summary>
    /// Shared memory one block can use after opting in with
    /// <c>CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES</c> (CUDA C Programming Guide,
    /// "Technical Specifications per Compute Capability").
    /// </summary>
    /// <param name="arch">Compute capability times ten, e.g. 80 or 90.</param>
    /// <exception cref="ArgumentOutOfRangeException">The architecture is not one listed here.</exception>
    public static int MaxSharedBytesPerBlock(int arch) => arch switch
    {
        80 or 87 => 163 * 1024,
        86 or 89 or 120 => 99 * 1024,
        90 or 100 => 227 * 1024,
        _ => throw new ArgumentOutOfRangeException(nameof(arch), arch, "No shared-memory limit is known for this architecture."),
    };
}
