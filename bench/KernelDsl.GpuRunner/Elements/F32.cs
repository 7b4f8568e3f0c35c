namespace KernelDsl.GpuRunner;

/// <summary>IEEE binary32.</summary>
internal readonly struct F32 : IElement<float>
{
    public static string Name => "F32";

    public static int CudaDataType => 0;   // CUDA_R_32F

    // fp32 accumulation of exact products: far under 1e-5 at the checked sizes (DESIGN.md: aim 1e-5).
    public static double Tolerance => 1e-5;

    public static float NaN => float.NaN;

    public static float From(float value) => value;

    public static double ToDouble(float value) => value;

    public static bool IsNaN(float value) => float.IsNaN(value);
}
