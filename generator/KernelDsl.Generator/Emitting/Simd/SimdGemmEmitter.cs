using KernelDsl.Generator.Planning;

namespace KernelDsl.Generator.Emitting.Simd;

/// <summary>Prints the CPU fallback's per-ISA kernel structs. (Stub: being written.)</summary>
internal static class SimdGemmEmitter
{
    public static string KernelTypeName(CpuIsa isa) => "Cpu" + isa;

    public static void Emit(CodeWriter w, GemmPlan plan)
    {
    }
}
