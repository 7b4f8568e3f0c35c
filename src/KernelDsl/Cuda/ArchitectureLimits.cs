using System;

// One file for the generator (which plans within these limits; linked into its project) and the runtime (which
// checks launches and tests against them).
#if KERNELDSL_GENERATOR
namespace KernelDsl.Generator.Planning;
#else
namespace KernelDsl.Cuda;
#endif

/// <summary>Per-architecture hardware limits that a kernel plan must stay within.</summary>
#if KERNELDSL_GENERATOR
internal
#else
public
#endif
static class ArchitectureLimits
{
    /// <summary>Registers one thread can address (every architecture from sm_35 on).</summary>
    public const int MaxRegistersPerThread = 255;

    /// <summary>Threads of one block (every architecture from sm_20 on).</summary>
    public const int MaxThreadsPerBlock = 1024;

    /// <summary>32-bit registers of one SM, which one block's threads share (sm_50 to sm_120).</summary>
    public const int RegistersPerBlock = 64 * 1024;

    /// <summary>Static shared memory per block; more needs dynamic shared memory and an opt-in.</summary>
    public const int MaxStaticSharedBytesPerBlock = 48 * 1024;

    /// <summary>The architecture a kernel's shared memory is planned for: sm_80 has the smallest opt-in limit of the data-centre parts we target.</summary>
    public const int PlannedArch = 80;

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

    /// <summary>
    /// Registers each of <paramref name="threads"/> threads can have with the whole block resident on one SM: the
    /// register file shared out, in the allocation unit of 8 registers a thread (256 a warp), at most
    /// <see cref="MaxRegistersPerThread"/>. A kernel that needs more spills (ptxas caps it at this figure under
    /// <c>__launch_bounds__</c>).
    /// </summary>
    public static int RegisterBudget(int threads) =>
        Math.Min(MaxRegistersPerThread, RegistersPerBlock / Math.Max(threads, 1) / 8 * 8);
}
