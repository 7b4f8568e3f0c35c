namespace KernelDsl.Generator.Planning;

/// <summary>Instruction-set widths the CPU fallback is specialised for (mirrors the runtime's <c>CpuIsa</c>).</summary>
internal enum CpuIsa
{
    Scalar = 0,
    Vector128 = 1,
    Vector256 = 2,
    Vector512 = 3,
}
