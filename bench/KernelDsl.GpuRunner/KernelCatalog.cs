using System;
using System.Collections.Generic;
using System.Linq;

namespace KernelDsl.GpuRunner;

/// <summary>Every kernel the runner declares (Kernels.cs), with typed launchers. Add a kernel there and here.</summary>
internal static class KernelCatalog
{
    public static IReadOnlyList<GemmCase> Gemms { get; } =
    [
        // Tensor cores, TN, fp32 output: Triton's standard configurations.
        ToF32<Half, F16>(F16Tn128x256x64.Info, F16Tn128x256x64.CudaSource,
            (s, a, lda, b, ldb, c, ldc, m, n, k, _) => F16Tn128x256x64.Launch(s, a, lda, b, ldb, c, ldc, m, n, k, 1f, 0f)),
        ToF32<Half, F16>(F16Tn128x128x32.Info, F16Tn128x128x32.CudaSource,
            (s, a, lda, b, ldb, c, ldc, m, n, k, _) => F16Tn128x128x32.Launch(s, a, lda, b, ldb, c, ldc, m, n, k, 1f, 0f)),
        ToF32<Half, F16>(F16Tn64x128x32.Info, F16Tn64x128x32.CudaSource,
            (s, a, lda, b, ldb, c, ldc, m, n, k, _) => F16Tn64x128x32.Launch(s, a, lda, b, ldb, c, ldc, m, n, k, 1f, 0f)),
        ToF32<Half, F16>(F16Tn64x32x32.Info, F16Tn64x32x32.CudaSource,
            (s, a, lda, b, ldb, c, ldc, m, n, k, _) => F16Tn64x32x32.Launch(s, a, lda, b, ldb, c, ldc, m, n, k, 1f, 0f)),
        ToF32<BFloat16, BF16>(Bf16Tn128x256x64.Info, Bf16Tn128x256x64.CudaSource,
            (s, a, lda, b, ldb, c, ldc, m, n, k, _) => Bf16Tn128x256x64.Launch(s, a, lda, b, ldb, c, ldc, m, n, k, 1f, 0f)),
        ToF32<BFloat16, BF16>(Bf16Tn128x128x32.Info, Bf16Tn128x128x32.CudaSource,
            (s, a, lda, b, ldb, c, ldc, m, n, k, _) => Bf16Tn128x128x32.Launch(s, a, lda, b, ldb, c, ldc, m, n, k, 1f, 0f)),
        ToF32<BFloat16, BF16>(Bf16Tn64x128x32.Info, Bf16Tn64x128x32.CudaSource,
            (s, a, lda, b, ldb, c, ldc, m, n, k, _) => Bf16Tn64x128x32.Launch(s, a, lda, b, ldb, c, ldc, m, n, k, 1f, 0f)),
        ToF32<BFloat16, BF16>(Bf16Tn64x32x32.Info, Bf16Tn64x32x32.CudaSource,
            (s, a, lda, b, ldb, c, ldc, m, n, k, _) => Bf16Tn64x32x32.Launch(s, a, lda, b, ldb, c, ldc, m, n, k, 1f, 0f)),

        // Tensor cores, other layouts and epilogues.
        ToF32<Half, F16>(F16Nn128x128x32.Info, F16Nn128x128x32.CudaSource,
            (s, a, lda, b, ldb, c, ldc, m, n, k, _) => F16Nn128x128x32.Launch(s, a, lda, b, ldb, c, ldc, m, n, k, 1f, 0f)),
        new GemmCase<Half, F16, Half, F16>(F16TnBiasGeluF16.Info, F16TnBiasGeluF16.CudaSource,
            (s, a, lda, b, ldb, c, ldc, m, n, k, bias) => F16TnBiasGeluF16.Launch(s, a, lda, b, ldb, c, ldc, m, n, k, bias, 1f, 0f)),

        // fp32 SIMT (the sample's configurations).
        Simt(F32Proj.Info, F32Proj.CudaSource,
            (s, a, lda, b, ldb, c, ldc, m, n, k, bias) => F32Proj.Launch(s, a, lda, b, ldb, c, ldc, m, n, k, bias, 1f, 0f)),
        Simt(F32Square.Info, F32Square.CudaSource,
            (s, a, lda, b, ldb, c, ldc, m, n, k, _) => F32Square.Launch(s, a, lda, b, ldb, c, ldc, m, n, k, 1f, 0f)),
        Simt(F32Gate.Info, F32Gate.CudaSource,
            (s, a, lda, b, ldb, c, ldc, m, n, k, bias) => F32Gate.Launch(s, a, lda, b, ldb, c, ldc, m, n, k, bias, 1f, 0f)),
    ];

    public static IReadOnlyList<AttentionCase> Attentions { get; } =
    [
        new AttentionCase<BFloat16, BF16>(AttnBf16D128.Info, AttnBf16D128.CudaSource, AttnBf16D128.LaunchStep, AttnBf16D128.LaunchFinalize),
        new AttentionCase<BFloat16, BF16>(AttnBf16D128Causal.Info, AttnBf16D128Causal.CudaSource, AttnBf16D128Causal.LaunchStep, AttnBf16D128Causal.LaunchFinalize),
        new AttentionCase<BFloat16, BF16>(
            AttnBf16D128CausalQ128.Info, AttnBf16D128CausalQ128.CudaSource, AttnBf16D128CausalQ128.LaunchStep, AttnBf16D128CausalQ128.LaunchFinalize),
    ];

    /// <summary>Every kernel, GEMMs first.</summary>
    public static IEnumerable<KernelCase> All => Gemms.Cast<KernelCase>().Concat(Attentions);

    /// <summary>Kernels whose name contains <paramref name="filter"/> (case-insensitive); all when null.</summary>
    public static IEnumerable<T> Matching<T>(IEnumerable<T> kernels, string? filter)
        where T : KernelCase
        => filter is null ? kernels : kernels.Where(kernel => kernel.Name.Contains(filter, StringComparison.OrdinalIgnoreCase));

    private static GemmCase<TIn, TInE, float, F32> ToF32<TIn, TInE>(GemmInfo info, string source, GemmLauncher<TIn, float> launch)
        where TIn : unmanaged
        where TInE : IElement<TIn>
        => new(info, source, launch);

    private static GemmCase<float, F32, float, F32> Simt(GemmInfo info, string source, GemmLauncher<float, float> launch) => new(info, source, launch);
}
