namespace KernelDsl.Benchmarks;

/// <summary>Plain C = A·B in fp32 with the default tiling: the kernel <see cref="SgemmBenchmarks"/> measures.</summary>
[Gemm(Element.F32)]
public static partial class BenchSgemm;
