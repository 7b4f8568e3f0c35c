using System.Collections.Generic;

namespace KernelDsl.Generator.Emitting;

/// <summary>
/// The names the generator adds to a kernel class, per kind of kernel: a kernel class named like one of them would
/// not compile (CS0542, a member named like its type), so validation reports it instead. A test compares these lists
/// with the members the emitters actually print.
/// </summary>
internal static class GeneratedMembers
{
    public static readonly IReadOnlyList<string> Gemm =
    [
        "CudaSource", "EntryPoint", "Info", "Run", "Launch", "Compute", "cudaFunction", "RunCpu", "LaunchCuda", "ComputeOn",
        Simd.GemmEpilogueEmitter.TypeName, Launch.KernelTypeEmitter.TypeName,
    ];

    /// <summary>What a GEMM with an sm_90a kernel gets besides <see cref="Gemm"/>.</summary>
    public static readonly IReadOnlyList<string> GemmSm90a = ["CudaSourceSm90a", "EntryPointSm90a", "cudaFunctionSm90a"];

    /// <summary>The names validation keeps from every GEMM class, sm_90a kernel or not, so changing a tile never breaks a class name.</summary>
    public static readonly IReadOnlyList<string> GemmReserved = [.. Gemm, .. GemmSm90a];

    public static readonly IReadOnlyList<string> Attention =
    [
        "CudaSource", "StepEntryPoint", "FinalizeEntryPoint", "Info", "cudaStep", "cudaFinalize", "LaunchStep", "LaunchFinalize", "LaunchBackwardDelta", "LaunchBackwardStep", "LaunchFinalizeGradient",
        "Shard", "Forward", "ForwardStep", "InitializeState", "Finalize", "Attention", "Backward", "BackwardStep", "BackwardDelta", "FinalizeGradient", "AttentionBackward", "RingOptions",
        Simd.AttentionScoresEmitter.TypeName, Launch.KernelTypeEmitter.TypeName,
    ];

    /// <summary>The members only an attention class with a CUDA backward pass gets (16-bit elements, d within its register plan).</summary>
    public static readonly IReadOnlyList<string> AttentionCudaBackward =
        ["CudaBackwardSource", "cudaBackwardStep", "cudaBackwardDelta", "cudaBackwardGradient"];

    /// <summary>The names validation keeps from every attention class, so changing its element type or d never breaks a class name.</summary>
    public static readonly IReadOnlyList<string> AttentionReserved = [.. Attention, .. AttentionCudaBackward];

    /// <summary>Namespaces the generated code names from the root (<c>global::System</c>): a type of that name in the global namespace would hide them.</summary>
    public static readonly IReadOnlyList<string> RootNamespaces = ["System", "KernelDsl"];
}
