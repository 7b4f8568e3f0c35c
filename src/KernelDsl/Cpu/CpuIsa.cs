using System.Runtime.Intrinsics;

namespace KernelDsl.Cpu;

/// <summary>The vector width the CPU fallback runs with.</summary>
public enum CpuIsa
{
    /// <summary>Plain scalar code; runs anywhere.</summary>
    Scalar = 0,
    /// <summary>128-bit vectors (SSE, NEON).</summary>
    Vector128 = 1,
    /// <summary>256-bit vectors (AVX2).</summary>
    Vector256 = 2,
    /// <summary>512-bit vectors (AVX-512).</summary>
    Vector512 = 3,
}

/// <summary>Which <see cref="CpuIsa"/> this machine accelerates.</summary>
public static class CpuFeatures
{
    /// <summary>The widest hardware-accelerated vector width on this machine.</summary>
    public static CpuIsa Best { get; } =
        Vector512.IsHardwareAccelerated ? CpuIsa.Vector512 :
        Vector256.IsHardwareAccelerated ? CpuIsa.Vector256 :
        Vector128.IsHardwareAccelerated ? CpuIsa.Vector128 :
        CpuIsa.Scalar;

    /// <summary>Whether <paramref name="isa"/> runs accelerated here (the scalar path always does).</summary>
    public static bool IsAccelerated(CpuIsa isa) => isa <= Best;
}
