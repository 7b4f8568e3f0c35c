using System;
using System.Buffers;
using System.Collections.Generic;
using System.Runtime.InteropServices;

namespace KernelDsl.Cpu;

/// <summary>
/// The CPU GEMM driver: BLIS's loops around a register microkernel of the widest vectors the machine has, with the
/// packing of the operands' layouts and a kernel's own epilogue plugged in as type arguments.
/// Called by the generated <c>Run</c> of every <c>[Gemm]</c> class.
/// </summary>
/// <remarks>
/// Every element type computes in fp32: packing widens <see cref="Half"/> and <see cref="BFloat16"/>
/// operands to float, and products accumulate in float. A 16-bit C is accumulated in an fp32
/// workspace (C is read, converted, only when β ≠ 0) and rounded to nearest even once, when its tile
/// is final; a 16-bit bias is widened once per call.
/// </remarks>
public static class CpuGemm
{
    /// <summary>This machine's blocking for each instruction set, widest first (<see cref="CpuCaches.ThisMachine"/>).</summary>
    public static IReadOnlyList<CpuBlocking> Blocking { get; } =
    [
        BlockingFor<Vector512MicroKernel>(), BlockingFor<Vector256MicroKernel>(),
        BlockingFor<Vector128MicroKernel>(), BlockingFor<ScalarMicroKernel>(),
    ];

    internal static CpuBlocking BlockingFor<TMicro>()
        where TMicro : IGemmMicroKernel
        => CpuBlocking.For(TMicro.Isa, TMicro.Mr, TMicro.Nr, CpuCaches.ThisMachine);

    /// <summary>
    /// Computes <c>C ← Finish(α·op(A)·op(B) + β·C, bias)</c> in fp32 whatever the element types, with the microkernel of
    /// <paramref name="isa"/> (null: the widest this machine accelerates) and this machine's blocking; β = 0 never
    /// reads C. Called by the generated <c>Run</c> of every <c>[Gemm]</c> class. Validates <paramref name="args"/> against the spans first.
    /// </summary>
    /// <typeparam name="TLayoutA">How A is stored: <see cref="RowMajor"/> (M×K) or <see cref="Transposed"/> (K×M).</typeparam>
    /// <typeparam name="TLayoutB">How B is stored: <see cref="RowMajor"/> (K×N) or <see cref="Transposed"/> (N×K).</typeparam>
    /// <typeparam name="TEpilogue">The kernel's epilogue after α and β: bias and activation.</typeparam>
    /// <typeparam name="TInput">Element type of A and B: float, <see cref="Half"/> or <see cref="BFloat16"/>.</typeparam>
    /// <typeparam name="TOutput">Element type of C and the bias: float, <see cref="Half"/> or <see cref="BFloat16"/>.</typeparam>
    /// <param name="a">A, row-major, rows <see cref="GemmArguments.Lda"/> apart.</param>
    /// <param name="b">B, row-major, rows <see cref="GemmArguments.Ldb"/> apart.</param>
    /// <param name="c">C, row-major M×N, rows <see cref="GemmArguments.Ldc"/> apart; elements between rows are untouched.</param>
    /// <param name="bias">N values, one per column of C, when <see cref="GemmArguments.HasBias"/>; otherwise ignored.</param>
    /// <param name="args">Sizes, leading dimensions, α, β and layout.</param>
    /// <param name="isa">Forces a vector width (tests, comparisons); null picks <see cref="CpuFeatures.Best"/>.</param>
    /// <exception cref="ArgumentException">See <see cref="GemmArguments.Validate"/>.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="isa"/> is not a defined <see cref="CpuIsa"/>.</exception>
    public static void Run<TLayoutA, TLayoutB, TEpilogue, TInput, TOutput>(ReadOnlySpan<TInput> a, ReadOnlySpan<TInput> b, Span<TOutput> c, ReadOnlySpan<TOutput> bias, GemmArguments args, CpuIsa? isa)
        where TLayoutA : struct, IOperandLayout
        where TLayoutB : struct, IOperandLayout
        where TEpilogue : struct, IGemmEpilogue
        where TInput : unmanaged
        where TOutput : unmanaged
    {
        switch (isa ?? CpuFeatures.Best)
        {
            case CpuIsa.Vector512: Run<GemmKernel<Vector512MicroKernel, TLayoutA, TLayoutB, TEpilogue, TInput>, TInput, TOutput>(a, b, c, bias, args); break;
            case CpuIsa.Vector256: Run<GemmKernel<Vector256MicroKernel, TLayoutA, TLayoutB, TEpilogue, TInput>, TInput, TOutput>(a, b, c, bias, args); break;
            case CpuIsa.Vector128: Run<GemmKernel<Vector128MicroKernel, TLayoutA, TLayoutB, TEpilogue, TInput>, TInput, TOutput>(a, b, c, bias, args); break;
            case CpuIsa.Scalar: Run<GemmKernel<ScalarMicroKernel, TLayoutA, TLayoutB, TEpilogue, TInput>, TInput, TOutput>(a, b, c, bias, args); break;
            default: throw new ArgumentOutOfRangeException(nameof(isa), isa, "Not a CpuIsa.");
        }
    }

    /// <summary>
    /// Computes <c>C ← act(α·op(A)·op(B) + β·C + bias)</c> with the kernel <typeparamref name="TKernel"/>,
    /// in fp32 whatever the element types; β = 0 never reads C. Validates <paramref name="args"/> against the spans first.
    /// </summary>
    /// <typeparam name="TKernel">The composed kernel: blocking, packing and microkernel.</typeparam>
    /// <typeparam name="TInput">Element type of A and B: float, <see cref="Half"/> or <see cref="BFloat16"/>.</typeparam>
    /// <typeparam name="TOutput">Element type of C and the bias: float, <see cref="Half"/> or <see cref="BFloat16"/>.</typeparam>
    /// <param name="a">A, row-major: M×K, or K×M when <see cref="GemmArguments.TransposeA"/>; rows <see cref="GemmArguments.Lda"/> apart.</param>
    /// <param name="b">B, row-major: K×N, or N×K when <see cref="GemmArguments.TransposeB"/>; rows <see cref="GemmArguments.Ldb"/> apart.</param>
    /// <param name="c">C, row-major M×N, rows <see cref="GemmArguments.Ldc"/> apart; elements between rows are untouched.</param>
    /// <param name="bias">N values, one per column of C, when <see cref="GemmArguments.HasBias"/>; otherwise ignored.</param>
    /// <param name="args">Sizes, leading dimensions, α, β and layout.</param>
    /// <exception cref="ArgumentException">See <see cref="GemmArguments.Validate"/>.</exception>
    /// <exception cref="NotSupportedException"><typeparamref name="TOutput"/> is not one of the three element types.</exception>
    internal static unsafe void Run<TKernel, TInput, TOutput>(ReadOnlySpan<TInput> a, ReadOnlySpan<TInput> b, Span<TOutput> c, ReadOnlySpan<TOutput> bias, GemmArguments args)
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
