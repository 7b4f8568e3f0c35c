using System;
using System.Buffers;
using System.Runtime.InteropServices;

namespace KernelDsl.Cpu;

/// <summary>
/// The CPU GEMM driver: BLIS's loops around a generated register microkernel.
/// Called by the generated <c>Run</c> of every <c>[Gemm]</c> class with that class's kernel struct.
/// </summary>
/// <remarks>
/// Every element type computes in fp32: packing widens <see cref="Half"/> and <see cref="BFloat16"/>
/// operands to float, and products accumulate in float. A 16-bit C is accumulated in an fp32
/// workspace (C is read, converted, only when β ≠ 0) and rounded to nearest even once, when its tile
/// is final; a 16-bit bias is widened once per call.
/// </remarks>
public static class CpuGemm
{
    /// <summary>
    /// Computes <c>C ← act(α·op(A)·op(B) + β·C + bias)</c> on fp32 operands with the kernel
    /// <typeparamref name="TKernel"/>; β = 0 never reads C. Validates <paramref name="args"/> against the spans first.
    /// </summary>
    /// <typeparam name="TKernel">The generated kernel struct: blocking, packing and microkernel.</typeparam>
    /// <param name="a">A, row-major: M×K, or K×M when <see cref="GemmArguments.TransposeA"/>; rows <see cref="GemmArguments.Lda"/> apart.</param>
    /// <param name="b">B, row-major: K×N, or N×K when <see cref="GemmArguments.TransposeB"/>; rows <see cref="GemmArguments.Ldb"/> apart.</param>
    /// <param name="c">C, row-major M×N, rows <see cref="GemmArguments.Ldc"/> apart; elements between rows are untouched.</param>
    /// <param name="bias">N values, one per column of C, when <see cref="GemmArguments.HasBias"/>; otherwise ignored.</param>
    /// <param name="args">Sizes, leading dimensions, α, β and layout.</param>
    /// <exception cref="ArgumentException">See <see cref="GemmArguments.Validate"/>.</exception>
    public static void Run<TKernel>(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> c, ReadOnlySpan<float> bias, GemmArguments args)
        where TKernel : ICpuGemmKernel
        => Run<TKernel, float, float>(a, b, c, bias, args);

    /// <summary>
    /// Computes <c>C ← act(α·op(A)·op(B) + β·C + bias)</c> with the kernel <typeparamref name="TKernel"/>,
    /// in fp32 whatever the element types; β = 0 never reads C. Validates <paramref name="args"/> against the spans first.
    /// </summary>
    /// <typeparam name="TKernel">The generated kernel struct: blocking, packing and microkernel.</typeparam>
    /// <typeparam name="TInput">Element type of A and B: float, <see cref="Half"/> or <see cref="BFloat16"/>.</typeparam>
    /// <typeparam name="TOutput">Element type of C and the bias: float, <see cref="Half"/> or <see cref="BFloat16"/>.</typeparam>
    /// <param name="a">A, row-major: M×K, or K×M when <see cref="GemmArguments.TransposeA"/>; rows <see cref="GemmArguments.Lda"/> apart.</param>
    /// <param name="b">B, row-major: K×N, or N×K when <see cref="GemmArguments.TransposeB"/>; rows <see cref="GemmArguments.Ldb"/> apart.</param>
    /// <param name="c">C, row-major M×N, rows <see cref="GemmArguments.Ldc"/> apart; elements between rows are untouched.</param>
    /// <param name="bias">N values, one per column of C, when <see cref="GemmArguments.HasBias"/>; otherwise ignored.</param>
    /// <param name="args">Sizes, leading dimensions, α, β and layout.</param>
    /// <exception cref="ArgumentException">See <see cref="GemmArguments.Validate"/>.</exception>
    /// <exception cref="NotSupportedException"><typeparamref name="TOutput"/> is not one of the three element types.</exception>
    public static unsafe void Run<TKernel, TInput, TOutput>(ReadOnlySpan<TInput> a, ReadOnlySpan<TInput> b, Span<TOutput> c, ReadOnlySpan<TOutput> bias, GemmArguments args)
        where TKernel : ICpuGemmKernel<TInput>
        where TInput : unmanaged
        where TOutput : unmanaged
    {
        CpuConvert.RequireElement<TOutput>();
        args.Validate(a.Length, b.Length, c.Length, bias.Length);
        if (args.IsEmpty)
        {
            return;
        }

        var shape = CpuGemmShape.For<TKernel, TInput>(args.M, args.N, args.K);
        bool fp32Output = typeof(TOutput) == typeof(float);
        float[] packedA = ArrayPool<float>.Shared.Rent(shape.PackedALength);
        float[] packedB = ArrayPool<float>.Shared.Rent(shape.PackedBLength);
        // A 16-bit C keeps its partial sums in fp32 between K blocks: one panel of all rows.
        float[]? workspace = fp32Output ? null : ArrayPool<float>.Shared.Rent(shape.WorkspaceLength);
        float[]? wideBias = fp32Output || !args.HasBias ? null : ArrayPool<float>.Shared.Rent(args.N);
        try
        {
            ReadOnlySpan<float> biasValues = default;
            if (args.HasBias)
            {
                if (wideBias is null)
                {
                    biasValues = MemoryMarshal.Cast<TOutput, float>(bias);
                }
                else
                {
                    CpuConvert.ToSingle(bias[..args.N], wideBias);
                    biasValues = wideBias;
                }
            }
            fixed (TInput* aPointer = a, bPointer = b)
            fixed (TOutput* cPointer = c)
            fixed (float* biasPointer = biasValues, packedAPointer = packedA, packedBPointer = packedB, workspacePointer = workspace)
            {
                var job = new CpuGemmJob<TKernel, TInput, TOutput>(
                    shape, args, aPointer, bPointer, cPointer, args.HasBias ? biasPointer : null, packedAPointer, packedBPointer,
                    fp32Output ? (float*)cPointer : workspacePointer);
                job.Execute();
            }
        }
        finally
        {
            ArrayPool<float>.Shared.Return(packedA);
            ArrayPool<float>.Shared.Return(packedB);
            if (workspace is not null)
            {
                ArrayPool<float>.Shared.Return(workspace);
            }
            if (wideBias is not null)
            {
                ArrayPool<float>.Shared.Return(wideBias);
            }
        }
    }
}
