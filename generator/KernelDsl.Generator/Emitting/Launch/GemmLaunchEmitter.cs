using KernelDsl.Generator.Emitting.Cuda;
using KernelDsl.Generator.Emitting.Simd;
using KernelDsl.Generator.Planning;

namespace KernelDsl.Generator.Emitting.Launch;

/// <summary>
/// Prints the <c>.g.cs</c> file of one GEMM: the public surface (<c>CudaSource</c>, <c>EntryPoint</c>,
/// <c>Info</c>, <c>Run</c>, <c>Launch</c>, <c>Compute</c>, the <c>Kernel</c> type), the CUDA text and the CPU epilogue struct that plugs the
/// kernel into the runtime's CPU GEMM.
/// </summary>
internal static class GemmLaunchEmitter
{
    public static string Emit(GemmPlan plan) => KernelFile.Write(plan.Kernel, w =>
    {
        KernelFile.CudaSource(w, CudaGemmEmitter.Emit(plan),
            "Launch <see cref=\"EntryPoint\"/> with <see cref=\"Info\"/>'s grid, block and dynamic shared memory.");
        w.Line("/// <summary>The <c>extern \"C\"</c> kernel function in <see cref=\"CudaSource\"/>.</summary>");
        w.Line("public const string EntryPoint = \"" + plan.EntryPoint + "\";");
        w.Line();
        if (plan.Hopper is { } hopper)
        {
            KernelFile.CudaSource(w, "CudaSourceSm90a", "sm_90a (NVRTC 12 or newer)", CudaHopperGemmEmitter.Emit(plan, hopper),
                "Launch <see cref=\"EntryPointSm90a\"/> instead of <see cref=\"EntryPoint\"/> on compute capability 9.0, as <see cref=\"global::KernelDsl.Cuda.HopperGemmLaunch\"/> does.");
            w.Line("/// <summary>The <c>extern \"C\"</c> kernel function in <see cref=\"CudaSourceSm90a\"/>.</summary>");
            w.Line("public const string EntryPointSm90a = \"" + hopper.EntryPoint + "\";");
            w.Line();
        }
        EmitInfo(w, plan);
        CpuRunEmitter.Emit(w, plan);
        CudaLaunchEmitter.Emit(w, plan);
        KernelTypeEmitter.EmitGemm(w, plan);
        GemmEpilogueEmitter.Emit(w, plan);
    });

    private static void EmitInfo(CodeWriter w, GemmPlan plan)
    {
        var c = plan.Cuda;
        var o = plan.Operands;
        w.Line("/// <summary>The plan the generator chose: tiling, threads, shared memory (the CPU blocking is this machine's, chosen at run time).</summary>");
        w.Line("public static global::KernelDsl.GemmInfo Info { get; } = new(");
        w.Line($"    \"{plan.Kernel.QualifiedName}\", EntryPoint,");
        w.Line($"    global::KernelDsl.Element.{o.Element}, global::KernelDsl.Element.{o.Output}, TransposeA: {Literals.Bool(o.TransposeA)}, TransposeB: {Literals.Bool(o.TransposeB)},");
        w.Line($"    Bias: {Literals.Bool(plan.Epilogue.Bias)}, global::KernelDsl.Activation.{plan.Epilogue.Activation},");
        w.Line($"    TileM: {c.TileM}, TileN: {c.TileN}, TileK: {c.TileK}, WarpsM: {c.WarpsM}, WarpsN: {c.WarpsN},");
        w.Line($"    ThreadTileM: {c.ThreadTileM}, ThreadTileN: {c.ThreadTileN}, Stages: {c.Stages}, SharedMemoryBytes: {c.SharedBytes},");
        if (plan.Hopper is { } h)
        {
            w.Line($"    ArithmeticIntensity: {Literals.Double(c.ArithmeticIntensity)})");
            w.Line("{");
            w.Line($"    Sm90a = new(EntryPointSm90a, TileM: {h.TileM}, TileN: {h.TileN}, TileK: {h.TileK}, Stages: {h.Stages}, ConsumerWarpgroups: {h.ConsumerWarpgroups}, BoxK: {h.BoxK}, SharedMemoryBytes: {h.SharedBytes}),");
            w.Line("};");
        }
        else
        {
            w.Line($"    ArithmeticIntensity: {Literals.Double(c.ArithmeticIntensity)});");
        }
        w.Line();
    }
}
