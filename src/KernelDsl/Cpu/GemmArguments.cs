using System;

namespace KernelDsl.Cpu;

/// <summary>
/// The run-time arguments of one CPU GEMM call <c>C ← act(α·op(A)·op(B) + β·C + bias)</c>:
/// sizes, leading dimensions (distance between consecutive stored rows, in elements), scalars,
/// and the storage facts the generated kernel was built for. Built by the generated <c>Run</c>, <c>Launch</c> and
/// <c>Compute</c> through <see cref="Dense"/> and <see cref="Strided"/>.
/// </summary>
/// <param name="M">Rows of op(A) and of C.</param>
/// <param name="N">Columns of op(B) and of C.</param>
/// <param name="K">Columns of op(A), rows of op(B).</param>
/// <param name="Lda">Leading dimension of A as stored (at least K, or M when <paramref name="TransposeA"/>).</param>
/// <param name="Ldb">Leading dimension of B as stored (at least N, or K when <paramref name="TransposeB"/>).</param>
/// <param name="Ldc">Leading dimension of C (at least N).</param>
/// <param name="Alpha">Scale of the product.</param>
/// <param name="Beta">Scale of the old C; 0 means C is never read.</param>
/// <param name="TransposeA">A is stored K×M, so op(A) = Aᵀ.</param>
/// <param name="TransposeB">B is stored N×K, so op(B) = Bᵀ.</param>
/// <param name="HasBias">The kernel adds a per-column bias of length N.</param>
public readonly record struct GemmArguments(
    int M,
    int N,
    int K,
    int Lda,
    int Ldb,
    int Ldc,
    float Alpha,
    float Beta,
    bool TransposeA,
    bool TransposeB,
    bool HasBias)
{
    /// <summary>
    /// The arguments of a call on dense row-major operands: each leading dimension is its stored row length, and at
    /// least 1 as in BLAS, so that zero sizes describe valid empty operands.
    /// </summary>
    /// <param name="kernel">The generated kernel's <c>Info</c>: operand layout and bias.</param>
    /// <param name="m">Rows of op(A) and of C.</param>
    /// <param name="n">Columns of op(B) and of C.</param>
    /// <param name="k">Columns of op(A), rows of op(B).</param>
    /// <param name="alpha">Scale of the product.</param>
    /// <param name="beta">Scale of the old C.</param>
    public static GemmArguments Dense(GemmInfo kernel, int m, int n, int k, float alpha, float beta)
    {
        ArgumentNullException.ThrowIfNull(kernel);
        return new GemmArguments(
            m, n, k,
            Lda: Math.Max(1, kernel.TransposeA ? m : k),
            Ldb: Math.Max(1, kernel.TransposeB ? k : n),
            Ldc: Math.Max(1, n),
            alpha, beta, kernel.TransposeA, kernel.TransposeB, kernel.Bias)
        {
            IsDense = true,
        };
    }

    /// <summary>The arguments of a call with explicit leading dimensions.</summary>
    /// <param name="kernel">The generated kernel's <c>Info</c>: operand layout and bias.</param>
    /// <param name="m">Rows of op(A) and of C.</param>
    /// <param name="n">Columns of op(B) and of C.</param>
    /// <param name="k">Columns of op(A), rows of op(B).</param>
    /// <param name="lda">Leading dimension of A as stored.</param>
    /// <param name="ldb">Leading dimension of B as stored.</param>
    /// <param name="ldc">Leading dimension of C.</param>
    /// <param name="alpha">Scale of the product.</param>
    /// <param name="beta">Scale of the old C.</param>
    public static GemmArguments Strided(GemmInfo kernel, int m, int n, int k, int lda, int ldb, int ldc, float alpha, float beta)
    {
        ArgumentNullException.ThrowIfNull(kernel);
        return new GemmArguments(m, n, k, lda, ldb, ldc, alpha, beta, kernel.TransposeA, kernel.TransposeB, kernel.Bias);
    }

    /// <summary>
    /// The leading dimensions were derived from the sizes (<see cref="Dense"/>), not passed by the caller: a rule they
    /// break is reported on the size they came from.
    /// </summary>
    public bool IsDense { get; init; }

    /// <summary>C has no element (M or N is 0): there is nothing to compute, read or write. K = 0 is not empty.</summary>
    public bool IsEmpty => M == 0 || N == 0;

    /// <summary>
    /// α as the kernels apply it to the product: 0 when K = 0, since the empty product contributes nothing whatever α
    /// is (as in BLAS, C ← act(β·C + bias)), where α·0 would be NaN for an infinite or NaN α.
    /// </summary>
    public float ProductScale => K == 0 ? 0f : Alpha;

    /// <summary>Stored rows of A: K when transposed, else M.</summary>
    public int ARows => TransposeA ? K : M;

    /// <summary>Elements per stored row of A: M when transposed, else K.</summary>
    public int ARowLength => TransposeA ? M : K;

    /// <summary>Stored rows of B: N when transposed, else K.</summary>
    public int BRows => TransposeB ? N : K;

    /// <summary>Elements per stored row of B: K when transposed, else N.</summary>
    public int BRowLength => TransposeB ? K : N;

    /// <summary>
    /// Throws when these arguments do not describe a valid call on spans of the given lengths.
    /// Each exception's <see cref="ArgumentException.ParamName"/> is the name of the generated
    /// <c>Run</c> parameter at fault: <c>m</c>, <c>n</c>, <c>k</c> (negative), <c>lda</c>,
    /// <c>ldb</c>, <c>ldc</c> (smaller than a stored row, or than 1), <c>a</c>, <c>b</c>,
    /// <c>c</c> (span too short) or <c>bias</c> (shorter than N, or given to a kernel without one).
    /// </summary>
    /// <param name="aLength">Elements in the span holding A.</param>
    /// <param name="bLength">Elements in the span holding B.</param>
    /// <param name="cLength">Elements in the span holding C.</param>
    /// <param name="biasLength">Elements in the span holding the bias (0 for a kernel without one).</param>
    /// <exception cref="ArgumentOutOfRangeException">A size is negative or a leading dimension too small.</exception>
    /// <exception cref="ArgumentException">A span is too short.</exception>
    public void Validate(int aLength, int bLength, int cLength, int biasLength)
    {
        NonNegative(M, "m");
        NonNegative(N, "n");
        NonNegative(K, "k");
        LeadingDimension(Lda, ARowLength, "lda", TransposeA ? "M" : "K");
        LeadingDimension(Ldb, BRowLength, "ldb", TransposeB ? "K" : "N");
        LeadingDimension(Ldc, N, "ldc", "N");
        Extent(aLength, ARows, ARowLength, Lda, "a");
        Extent(bLength, BRows, BRowLength, Ldb, "b");
        Extent(cLength, M, N, Ldc, "c");
        if (HasBias && biasLength < N)
        {
            throw new ArgumentException($"bias needs at least N = {N} elements (one per column of C) but holds {biasLength}.", "bias");
        }
        if (!HasBias && biasLength > 0)
        {
            throw new ArgumentException(
                $"this kernel adds no bias, but a bias of {biasLength} elements was given; pass none, or declare [Epilogue(Bias = true)].", "bias");
        }
    }

    /// <summary>Elements a span must hold for <paramref name="rows"/> rows of <paramref name="rowLength"/>, <paramref name="ld"/> apart.</summary>
    /// <param name="rows">Stored rows.</param>
    /// <param name="rowLength">Elements used per row.</param>
    /// <param name="ld">Leading dimension.</param>
    /// <returns>(rows − 1)·ld + rowLength, or 0 when there are no rows or the rows are empty.</returns>
    public static long RequiredLength(int rows, int rowLength, int ld)
        => rows == 0 || rowLength == 0 ? 0 : (long)(rows - 1) * ld + rowLength;

    private static void NonNegative(int value, string name)
    {
        if (value < 0)
        {
            throw new ArgumentOutOfRangeException(name, value, $"{name} must be zero or positive; got {value}.");
        }
    }

    private static void LeadingDimension(int ld, int rowLength, string name, string rowLengthName)
    {
        int needed = Math.Max(1, rowLength);
        if (ld < needed)
        {
            throw new ArgumentOutOfRangeException(name, ld,
                $"{name} must be at least the stored row length {rowLengthName} = {rowLength} (and at least 1); got {ld}.");
        }
    }

    private static void Extent(int length, int rows, int rowLength, int ld, string name)
    {
        long needed = RequiredLength(rows, rowLength, ld);
        if (length < needed)
        {
            throw new ArgumentException(
                $"{name} needs at least {needed} elements ({rows} rows of {rowLength}, {ld} apart) but holds {length}.", name);
        }
    }
}
