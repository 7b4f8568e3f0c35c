using System.Collections.Immutable;
using System.Linq;
using Microsoft.CodeAnalysis;

namespace KernelDsl.Generator.Diagnostics;

/// <summary>
/// Every diagnostic KernelDsl reports, in one table. IDs are stable and sequential: never reuse or
/// renumber one; retire it instead. Each message says what is wrong and how to fix it.
/// </summary>
internal static class DiagnosticDescriptors
{
    private const string Category = "KernelDsl";

    public static readonly DiagnosticDescriptor KernelClassNotStaticPartial = new(
        "KD0001", "Kernel class must be static partial",
        "Kernel '{0}' cannot take the generated members: {1}",
        Category, DiagnosticSeverity.Error, isEnabledByDefault: true);

    public static readonly DiagnosticDescriptor TileNotDivisibleByWarps = new(
        "KD0002", "Tile is not divisible by the warp grid",
        "Tile {0} = {1} is not divisible by the {2} warps along {0}; choose a tile that is a multiple of the warp count, such as {3}",
        Category, DiagnosticSeverity.Error, isEnabledByDefault: true);

    public static readonly DiagnosticDescriptor ThreadTileNotExpressible = new(
        "KD0003", "Per-thread tile is not expressible",
        "The {0}×{1} warp tile cannot be split over the 32 threads of a warp within the register budget of {2} accumulators per thread: {3}",
        Category, DiagnosticSeverity.Error, isEnabledByDefault: true);

    public static readonly DiagnosticDescriptor SharedMemoryOverLimit = new(
        "KD0004", "Shared memory over the target's limit",
        "{0} bytes of shared memory ({1}) exceed the {2}-byte limit per thread block of sm_{3}; {4}",
        Category, DiagnosticSeverity.Error, isEnabledByDefault: true);

    public static readonly DiagnosticDescriptor StagesOutOfRange = new(
        "KD0005", "Pipeline stages out of range",
        "Pipeline.Stages = {0} is out of range; use 1 (no overlap) to {1} stages",
        Category, DiagnosticSeverity.Error, isEnabledByDefault: true);

    public static readonly DiagnosticDescriptor UnsupportedElements = new(
        "KD0006", "Unsupported element combination",
        "Element {0}, Accumulate {1}, Output {2} is not supported: {3}",
        Category, DiagnosticSeverity.Error, isEnabledByDefault: true);

    public static readonly DiagnosticDescriptor ConflictingKernelAttributes = new(
        "KD0007", "Conflicting kernel attributes",
        "Kernel attributes on '{0}' do not fit together: {1}",
        Category, DiagnosticSeverity.Error, isEnabledByDefault: true);

    public static readonly DiagnosticDescriptor NonPositiveSize = new(
        "KD0008", "Size must be positive",
        "{0} = {1} must be positive",
        Category, DiagnosticSeverity.Error, isEnabledByDefault: true);

    public static readonly DiagnosticDescriptor TooManyThreads = new(
        "KD0009", "Too many threads per block",
        "Warps({0}, {1}) is {2} threads per block; CUDA allows at most 1024 (32 warps)",
        Category, DiagnosticSeverity.Error, isEnabledByDefault: true);

    public static readonly DiagnosticDescriptor UnknownEnumValue = new(
        "KD0010", "Unknown enum value",
        "{0} = {1} is not a defined value of {2}",
        Category, DiagnosticSeverity.Error, isEnabledByDefault: true);

    public static readonly DiagnosticDescriptor WarpTileNotMmaMultiple = new(
        "KD0011", "Warp tile is not a multiple of the MMA shape",
        "The {0}×{1} warp tile (Tile {2}×{3} over Warps({4}, {5})) must be a multiple of 16×16 for tensor-core MMAs; change the tile or the warp grid",
        Category, DiagnosticSeverity.Error, isEnabledByDefault: true);

    public static readonly DiagnosticDescriptor TileKNotMmaMultiple = new(
        "KD0012", "K tile is not a multiple of 16",
        "Tile.K = {0} must be a multiple of 16, the depth of one tensor-core MMA step",
        Category, DiagnosticSeverity.Error, isEnabledByDefault: true);

    public static readonly DiagnosticDescriptor HeadDimOutOfRange = new(
        "KD0013", "Head dimension out of range",
        "HeadDim = {0} must be a multiple of 16 between 16 and 256",
        Category, DiagnosticSeverity.Error, isEnabledByDefault: true);

    public static readonly DiagnosticDescriptor BuffersOutOfRange = new(
        "KD0014", "Overlap buffers out of range",
        "Overlap.Buffers = {0} must be 1 (no overlap) or 2 (double buffering)",
        Category, DiagnosticSeverity.Error, isEnabledByDefault: true);

    public static readonly DiagnosticDescriptor AttentionTileNotMmaMultiple = new(
        "KD0015", "Attention tile is not a multiple of the MMA shape",
        "{0}; change Tile(Q, KV) or the warp count",
        Category, DiagnosticSeverity.Error, isEnabledByDefault: true);

    public static readonly DiagnosticDescriptor KernelNameCollides = new(
        "KD0016", "Kernel class name collides with generated code",
        "Kernel class '{0}' {1}; rename the class",
        Category, DiagnosticSeverity.Error, isEnabledByDefault: true);

    public static readonly DiagnosticDescriptor ValueOutOfRange = new(
        "KD0017", "Value out of range",
        "{0} = {1} is out of range: {2}",
        Category, DiagnosticSeverity.Error, isEnabledByDefault: true);

    public static readonly DiagnosticDescriptor RegistersOverBudget = new(
        "KD0018", "Registers over the budget",
        "Each of the {0} threads of a block would need at least {1} registers ({2}), more than the {3} a thread can have when {0} threads share an SM's 65,536 without spilling; use fewer warps or a smaller tile",
        Category, DiagnosticSeverity.Error, isEnabledByDefault: true);

    /// <summary>All descriptors, in ID order (the generator's SupportedDiagnostics and the tests use it).</summary>
    public static readonly ImmutableArray<DiagnosticDescriptor> All = ImmutableArray.Create(
        KernelClassNotStaticPartial, TileNotDivisibleByWarps, ThreadTileNotExpressible, SharedMemoryOverLimit,
        StagesOutOfRange, UnsupportedElements, ConflictingKernelAttributes, NonPositiveSize, TooManyThreads,
        UnknownEnumValue, WarpTileNotMmaMultiple, TileKNotMmaMultiple,
        HeadDimOutOfRange, BuffersOutOfRange, AttentionTileNotMmaMultiple, KernelNameCollides, ValueOutOfRange, RegistersOverBudget);

    public static DiagnosticDescriptor ById(string id) => All.First(d => d.Id == id);
}
