using System;
using System.Buffers;

namespace KernelDsl.Cpu;

/// <summary>
/// The CPU GEMM driver: BLIS's loops around a generated register microkernel.
/// Called by the generated <c>Run</c> of every <c>[Gemm]</c> class with that class's kernel struct.
/// </summary>
public static class CpuGemm
{
    /// <summary>
    /// Computes <c>C ← act(α·op(A)·op(B) + β·C + bias)</c> with the kernel <typeparamref name="TKernel"/>;
    /// β = 0 never reads C. Validates <paramref name="args"/> against the spans first.
    /// </summary>
    /// <typeparam name="TKernel">The generated kernel struct: blocking, packing and microkernel.</typeparam>
    /// <param name="a">A, row-major: M×K, or K×M when <see cref="GemmArguments.TransposeA"/>; rows <see cref="GemmArguments.Lda"/> apart.</param>
    /// <param name="b">B, row-major: K×N, or N×K when <see cref="GemmArguments.TransposeB"/>; rows <see cref="GemmArguments.Ldb"/> apart.</param>
    /// <param name="c">C, row-major M×N, rows <see cref="GemmArguments.Ldc"/> apart; elements between rows are untouched.</param>
    /// <param name="bias">N values, one per column of C, when <see cref="GemmArguments.HasBias"/>; otherwise ignored.</param>
    /// <param name="args">Sizes, leading dimensions, α, β and layout.</param>
    /// <exception cref="ArgumentException">See <see cref="GemmArguments.Validate"/>.</exception>
    public static unsafe void Run<TKernel>(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> c, ReadOnlySpan<float> bias, GemmArguments args)
        where TKernel : ICpuGemmKernel
    {
        args.Validate(a.Length, b.Length, c.Length, bias.Length);
        if (args.M == 0 || args.N == 0)
        {
            return;
        }

        var shape = CpuGemmShape.For<TKernel>(args.M, args.N, args.K);
        float[] packedA = ArrayPool<float>.Shared.Rent(shape.PackedALength);
        float[] packedB = ArrayPool<float>.Shared.Rent(shape.PackedBLength);
        try
        {
            fixed (float* aPointer = a, bPointer = b, cPointer = c, biasPointer = bias)
            fixed (float* packedAPointer = packedA, packedBPointer = packedB)
            {
                var job = new CpuGemmJob<TKernel>(
                    shape, args, aPointer, bPointer, cPointer, args.HasBias ? biasPointer : null, packedAPointer, packedBPointer);
                job.Execute();
            }
        }
        finally
        {
            ArrayPool<float>.Shared.Return(packedA);
            ArrayPool<float>.Shared.Return(packedB);
        }
    }
}
