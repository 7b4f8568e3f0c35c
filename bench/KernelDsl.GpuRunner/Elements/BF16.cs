namespace KernelDsl.GpuRunner;

/// <summary>bfloat16.</summary>
internal readonly struct BF16 : IElement<BFloat16>
{
    public static string Name => "BF16";

    public static int CudaDataType => 14;  // CUDA_R_16BF

    // Rounding the output to 8 significant bits alone gives ~2.3e-3 relative.
    public static double Tolerance => 1e-2;

    public static BFloat16 NaN => BFloat16.FromBits(0x7FC0);

    public static BFloat16 From(float value) => (BFloat16)value;

    public static double ToDouble(BFloat16 value) => (float)value;

    public static bool IsNaN(BFloat16 value) => float.IsNaN((float)value);
}
