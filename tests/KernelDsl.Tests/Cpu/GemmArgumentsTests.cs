using System;
using KernelDsl.Cpu;
using Xunit;

namespace KernelDsl.Tests.Cpu;

/// <summary>
/// The generated <c>Run</c> rejects bad arguments before touching memory, naming the parameter at
/// fault (<see cref="ArgumentException.ParamName"/>) and saying what was needed and what was given.
/// </summary>
public sealed class GemmArgumentsTests
{
    // 4×5×3 GEMM, dense: A is 4×3 (12), B is 3×5 (15), C is 4×5 (20).
    private const int M = 4, N = 5, K = 3;

    private static readonly float[] A = new float[M * K], B = new float[K * N], Bias = new float[N];

    private static T Throws<T>(string param, Action run) where T : ArgumentException
    {
        var exception = Assert.Throws<T>(run);
        Assert.Equal(param, exception.ParamName);
        return exception;
    }

    [Fact]
    public void ShortSpansNameTheSpan()
    {
        var c = new float[M * N];
        var message = Throws<ArgumentException>("a", () => Plain.Run(A.AsSpan(1), B, c, M, N, K)).Message;
        Assert.Contains("12", message);
        Assert.Contains("11", message);
        Throws<ArgumentException>("b", () => Plain.Run(A, B.AsSpan(1), c, M, N, K));
        Throws<ArgumentException>("c", () => Plain.Run(A, B, c.AsSpan(1), M, N, K));
        Throws<ArgumentException>("bias", () => BiasOnly.Run(A, B, c, M, N, K, Bias.AsSpan(1)));
    }

    /// <summary>The last row needs only its own length, not a whole leading dimension.</summary>
    [Fact]
    public void LastRowNeedsOnlyItsLength()
    {
        var c = new float[(M - 1) * 8 + N];
        Plain.Run(new float[(M - 1) * 6 + K], 6, new float[(K - 1) * 7 + N], 7, c, 8, M, N, K, 1f, 0f);
        Throws<ArgumentException>("c", () => Plain.Run(new float[(M - 1) * 6 + K], 6, new float[(K - 1) * 7 + N], 7, c.AsSpan(1), 8, M, N, K, 1f, 0f));
    }

    [Theory]
    [InlineData(-1, N, K, "m")]
    [InlineData(M, -1, K, "n")]
    [InlineData(M, N, -1, "k")]
    public void NegativeSizesNameTheSize(int m, int n, int k, string param)
    {
        var c = new float[M * N];
        Throws<ArgumentOutOfRangeException>(param, () => Plain.Run(A, K, B, N, c, N, m, n, k, 1f, 0f));
    }

    [Fact]
    public void SmallLeadingDimensionsNameTheirParameter()
    {
        var c = new float[64];
        var a = new float[64];
        var b = new float[64];
        var message = Throws<ArgumentOutOfRangeException>("lda", () => Plain.Run(a, K - 1, b, N, c, N, M, N, K, 1f, 0f)).Message;
        Assert.Contains("K = 3", message);
        Throws<ArgumentOutOfRangeException>("ldb", () => Plain.Run(a, K, b, N - 1, c, N, M, N, K, 1f, 0f));
        Throws<ArgumentOutOfRangeException>("ldc", () => Plain.Run(a, K, b, N, c, N - 1, M, N, K, 1f, 0f));
    }

    /// <summary>Transposed operands are stored K×M and N×K, so their rows are M and K long.</summary>
    [Fact]
    public void TransposedLeadingDimensionsFollowTheStoredRows()
    {
        var c = new float[64];
        var a = new float[64];
        var b = new float[64];
        TransposedAB.Run(a, M, b, K, c, N, M, N, K, 1f, 0f);
        Throws<ArgumentOutOfRangeException>("lda", () => TransposedAB.Run(a, M - 1, b, K, c, N, M, N, K, 1f, 0f));
        Throws<ArgumentOutOfRangeException>("ldb", () => TransposedAB.Run(a, M, b, K - 1, c, N, M, N, K, 1f, 0f));
        Throws<ArgumentException>("a", () => TransposedAB.Run(a.AsSpan(0, K * M - 1), M, b, K, c, N, M, N, K, 1f, 0f));
        Throws<ArgumentException>("b", () => TransposedAB.Run(a, M, b.AsSpan(0, N * K - 1), K, c, N, M, N, K, 1f, 0f));
    }

    /// <summary>Empty rows accept any leading dimension from 1, as BLAS does; 0 is still rejected.</summary>
    [Fact]
    public void EmptyRowsAcceptAnyPositiveLeadingDimension()
    {
        var c = new float[M * N];
        Plain.Run([], 1, [], N, c, N, M, N, 0, 1f, 0f);
        Assert.All(c, value => Assert.Equal(0f, value));
        Throws<ArgumentOutOfRangeException>("lda", () => Plain.Run([], 0, [], N, c, N, M, N, 0, 1f, 0f));
    }

    [Fact]
    public void ValidateChecksSizesBeforeSpans()
    {
        var args = new GemmArguments(-1, N, K, K, N, N, 1f, 0f, TransposeA: false, TransposeB: false, HasBias: true);
        Throws<ArgumentOutOfRangeException>("m", () => args.Validate(0, 0, 0, 0));
        Assert.Equal(0, GemmArguments.RequiredLength(0, 5, 9));
        Assert.Equal(0, GemmArguments.RequiredLength(3, 0, 9));
        Assert.Equal(2 * 9 + 5, GemmArguments.RequiredLength(3, 5, 9));
    }

    /// <summary>
    /// The <see cref="IGemmKernel{TInput, TOutput}"/> form takes a bias whatever the kernel: one given to a kernel that
    /// adds none is an error, not silently dropped; an empty one is no bias.
    /// </summary>
    [Fact]
    public void A_bias_for_a_kernel_without_one_is_rejected()
    {
        var c = new float[M * N];
        var message = Throws<ArgumentException>("bias", () => RunThroughInterface<Plain.Kernel>(c, Bias)).Message;
        Assert.Contains("no bias", message);
        RunThroughInterface<Plain.Kernel>(c, []);
        Throws<ArgumentException>("bias", () => RunThroughInterface<BiasOnly.Kernel>(c, []));
    }

    private static void RunThroughInterface<TKernel>(float[] c, float[] bias)
        where TKernel : IGemmKernel<float, float>
        => TKernel.Run(A, K, B, N, c, N, M, N, K, bias, 1f, 0f, null);
}
