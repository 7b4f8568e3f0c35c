using KernelDsl.Generator.Model;

namespace KernelDsl.Generator.Emitting.Cuda;

/// <summary>The small device functions kernels are built from, as CUDA text; the inline PTX under them is in <see cref="PtxPrelude"/>.</summary>
internal static class CudaDeviceFunctions
{
    /// <summary>The C type that stores an element: 16-bit formats travel as their bit patterns.</summary>
    public static string StorageType(Element element) => element == Element.F32 ? "float" : "unsigned short";

    /// <summary>Conversions between fp32 and the output element (C and bias), rounding to nearest even.</summary>
    public static string OutputConversions(Element output) => output switch
    {
        Element.F16 => """
            typedef unsigned short out_t;  // fp16 bits
            __device__ __forceinline__ float to_float(out_t h) { return f16_to_float(h); }
            __device__ __forceinline__ out_t from_float(float x) { return float_to_f16(x); }
            """,
        Element.BF16 => """
            typedef unsigned short out_t;  // bf16 bits: the high half of an fp32
            __device__ __forceinline__ float to_float(out_t h) { return __uint_as_float(static_cast<unsigned>(h) << 16); }
            __device__ __forceinline__ out_t from_float(float x) { return float_to_bf16(x); }
            """,
        _ => """
            typedef float out_t;
            __device__ __forceinline__ float to_float(out_t x) { return x; }
            __device__ __forceinline__ out_t from_float(float x) { return x; }
            """,
    };

    /// <summary>
    /// <c>grouped_tile</c>: the place of tile <c>tile</c> (a linear index) in a tiles_m × tiles_n grid of tiles in grouped
    /// order (Triton's GROUP_M): consecutive indices walk down <paramref name="rasterGroup"/> tile rows (fewer in the last
    /// group), then one tile column right, so the tiles in flight together share panels of A and B in L2.
    /// </summary>
    public static string GroupedTileOrder(int rasterGroup) => $$"""
        // Tile `tile` in grouped order: consecutive indices walk down RASTER_GROUP tile rows (fewer in the last group),
        // then one tile column right, so the tiles in flight together share panels of A and B in L2.
        constexpr int RASTER_GROUP = {{Literals.Int(rasterGroup)}};
        __device__ __forceinline__ void grouped_tile(int tile, int tiles_m, int tiles_n, int& tile_m, int& tile_n)
        {
            const int group = tile / (RASTER_GROUP * tiles_n), first_row = group * RASTER_GROUP;
            const int group_rows = min(tiles_m - first_row, RASTER_GROUP);
            const int in_group = tile - group * (RASTER_GROUP * tiles_n);
            tile_m = first_row + in_group % group_rows;
            tile_n = in_group / group_rows;
        }
        """;

    /// <summary>The activation as a device function (identity included, so the store reads the same for all).</summary>
    public static string Activation(Activation activation) => activation switch
    {
        Model.Activation.Relu => "__device__ __forceinline__ float activation(float x) { return x > 0.0f ? x : 0.0f; }",
        // 0.5·x·(1 + tanh(u)) = x·sigmoid(2u) = x / (1 + e^(−2u)); e^(+large) = inf gives −0, not NaN.
        Model.Activation.Gelu => """
            // GELU, tanh form: 0.5 x (1 + tanh(u)) with u = sqrt(2/pi) (x + 0.044715 x^3), written as x / (1 + e^(-2u)).
            __device__ __forceinline__ float activation(float x)
            {
                const float u = 0.7978845608f * (x + 0.044715f * x * x * x);
                return x / (1.0f + expf(-2.0f * u));
            }
            """,
        Model.Activation.Silu => "__device__ __forceinline__ float activation(float x) { return x / (1.0f + expf(-x)); }",
        _ => "__device__ __forceinline__ float activation(float x) { return x; }",
    };
}
