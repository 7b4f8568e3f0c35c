using System;

namespace KernelDsl.GpuRunner;

/// <summary>IEEE binary16.</summary>
internal readonly struct F16 : IElement<Half>
{
    public static string Name => "F16";

    public static int CudaDataType => 2;   // CUDA_R_16F

    // Rounding the output to 11 significant bits alone gives ~3e-4 relative.
    public static double Tolerance => 1e-3;

    public static Half NaN => Half.NaN;

    public static Half From(float value) => (Half)value;

    public static double ToDouble(Half value) => (double)value;

    public static bool IsNaN(Half value) => Half.IsNaN(value);
}
