using KernelDsl.Cuda;

namespace KernelDsl.GpuRunner;

/// <summary>A generated GEMM's Launch with explicit leading dimensions; kernels without bias ignore <paramref name="bias"/>.</summary>
internal delegate void GemmLauncher<TIn, TOut>(
    CudaStream stream, DeviceBuffer<TIn> a, int lda, DeviceBuffer<TIn> b, int ldb, DeviceBuffer<TOut> c, int ldc,
    int m, int n, int k, DeviceBuffer<TOut> bias)
    where TIn : unmanaged
    where TOut : unmanaged;
