using System;
using KernelDsl.Tests.Cpu;
using Xunit;

namespace KernelDsl.Tests.Emulation;

/// <summary>
/// The tensor-core path's rule, K and every row of A and B a multiple of 8 elements, through <c>Compute</c> on the
/// emulator: an <see cref="ArgumentException"/> that names what the caller passed (a dense call names the size its
/// rows are, not a leading dimension it never passed) and states the rule; C is not written.
/// </summary>
public sealed class GemmLayoutRuleTests
{
    [Theory]
    [InlineData(16, 16, 12, "k")]
    [InlineData(16, 12, 16, "n")]
    public void Dense_call_on_a_b_kxn_names_the_size(int m, int n, int k, string parameter)
    {
        var c = Poisoned(m * n);
        Rejected(parameter, () => HalfToFloat.Compute(Values(m * k), Values(k * n), c, m, n, k, backend: KernelBackend.Emulator));
        Assert.All(c, value => Assert.True(float.IsNaN(value), "C was written"));
    }

    [Fact]
    public void Dense_call_on_a_transposed_a_names_m()
    {
        const int m = 12, n = 16, k = 16;
        var c = new Half[m * n];
        Array.Fill(c, Half.NaN);
        Rejected("m", () => HalfToHalf.Compute(Values(k * m), Values(k * n), c, m, n, k, backend: KernelBackend.Emulator));
        Assert.All(c, value => Assert.True(Half.IsNaN(value), "C was written"));
    }

    [Theory]
    [InlineData(20, 16, "lda")]
    [InlineData(16, 20, "ldb")]
    public void Leading_dimension_call_names_the_leading_dimension(int lda, int ldb, string parameter)
    {
        const int m = 16, n = 16, k = 16;
        var c = Poisoned(m * n);
        Rejected(parameter, () => HalfToFloat.Compute(Values(m * lda), lda, Values(k * ldb), ldb, c, n, m, n, k, backend: KernelBackend.Emulator));
        Assert.All(c, value => Assert.True(float.IsNaN(value), "C was written"));
    }

    private static void Rejected(string parameter, Action call)
    {
        var error = Assert.Throws<ArgumentException>(call);
        Assert.Equal(parameter, error.ParamName);
        Assert.Contains("must be a multiple of 8 on the tensor-core path", error.Message);
    }

    private static Half[] Values(int count)
    {
        var random = new Random(count);
        return Array.ConvertAll(new Half[count], _ => (Half)(random.NextSingle() * 2 - 1));
    }

    private static float[] Poisoned(int count)
    {
        var values = new float[count];
        Array.Fill(values, float.NaN);
        return values;
    }
}
