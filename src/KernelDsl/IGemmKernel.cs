using System;
using KernelDsl.Cpu;
using KernelDsl.Cuda;

namespace KernelDsl;

/// <summary>
/// A generated GEMM kernel as a type, for code that handles kernels generically (the benchmark and GPU runners,
/// tests): every <c>[Gemm]</c> class <c>K</c> gets a nested <c>K.Kernel</c> struct implementing this by forwarding to
/// <c>K</c>'s own members, so <c>Run&lt;TKernel&gt;(…) where TKernel : IGemmKernel&lt;float, float&gt;</c> calls them
/// with no reflection and no catalog to keep. The members take every argument (leading dimensions, bias, α, β);
/// <c>K</c>'s own overloads are the convenient ones.
/// </summary>
/// <typeparam name="TInput">The element of A and B (<see cref="float"/>, <see cref="Half"/>, <see cref="BFloat16"/>).</typeparam>
/// <typeparam name="TOutput">The element of C and the bias.</typeparam>
public interface IGemmKernel<TInput, TOutput>
    where TInput : unmanaged
    where TOutput : unmanaged
{
    /// <summary>The plan the generator chose (<c>K.Info</c>).</summary>
    static abstract GemmInfo Info { get; }

    /// <summary>The kernel's CUDA C (<c>K.CudaSource</c>).</summary>
    static abstract string CudaSource { get; }

    /// <summary>The sm_90a kernel's CUDA C (<c>K.CudaSourceSm90a</c>), or null when it has none (<see cref="GemmInfo.Sm90a"/>).</summary>
    static abstract string? CudaSourceSm90a { get; }

    /// <summary>
    /// <c>K.Run</c> with leading dimensions: C ← act(α·op(A)·op(B) + β·C + bias) on the CPU fallback.
    /// <paramref name="bias"/> must be empty when <see cref="GemmInfo.Bias"/> is false (an <see cref="ArgumentException"/> otherwise).
    /// </summary>
    static abstract void Run(ReadOnlySpan<TInput> a, int lda, ReadOnlySpan<TInput> b, int ldb, Span<TOutput> c, int ldc,
        int m, int n, int k, ReadOnlySpan<TOutput> bias, float alpha, float beta, CpuIsa? isa);

    /// <summary>
    /// <c>K.Launch</c> with leading dimensions: queues the CUDA kernel on <paramref name="stream"/>.
    /// <paramref name="bias"/> is null exactly when <see cref="GemmInfo.Bias"/> is false (an <see cref="ArgumentException"/> otherwise).
    /// </summary>
    static abstract void Launch(CudaStream stream, DeviceBuffer<TInput> a, int lda, DeviceBuffer<TInput> b, int ldb, DeviceBuffer<TOutput> c, int ldc,
        int m, int n, int k, DeviceBuffer<TOutput>? bias, float alpha, float beta);

    /// <summary><c>K.Compute</c> with leading dimensions: host spans on <paramref name="backend"/>; returns the backend that ran.</summary>
    static abstract KernelBackend Compute(ReadOnlySpan<TInput> a, int lda, ReadOnlySpan<TInput> b, int ldb, Span<TOutput> c, int ldc,
        int m, int n, int k, ReadOnlySpan<TOutput> bias, float alpha, float beta, KernelBackend backend);
}
