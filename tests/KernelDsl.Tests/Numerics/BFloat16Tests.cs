using System;
using KernelDsl;
using Xunit;

namespace KernelDsl.Tests.Numerics;

public sealed class BFloat16Tests
{
    // Inputs are float bit patterns: theory data passed as float can lose its last bit in serialization.
    [Theory]
    [InlineData(0x3F800000u, 0x3F80)]  // 1
    [InlineData(0xC0000000u, 0xC000)]  // -2
    [InlineData(0x00000000u, 0x0000)]  // 0
    [InlineData(0x7F800000u, 0x7F80)]  // +inf
    [InlineData(0x7F7FFFFFu, 0x7F80)]  // float.MaxValue rounds up past the largest bfloat16 to infinity
    [InlineData(0x3F808000u, 0x3F80)]  // 1 + 2^-8: exactly halfway, ties to even (down)
    [InlineData(0x3F818000u, 0x3F82)]  // 1 + 3·2^-8: halfway, ties to even (up)
    [InlineData(0x3F808001u, 0x3F81)]  // one float above halfway: up
    [InlineData(0x3F807FFFu, 0x3F80)]  // one float below halfway: down
    public void Rounds_to_nearest_even(uint floatBits, int bits)
        => Assert.Equal((ushort)bits, ((BFloat16)BitConverter.UInt32BitsToSingle(floatBits)).Bits);

    [Fact]
    public void Every_bfloat16_round_trips_through_float()
    {
        for (int bits = 0; bits <= ushort.MaxValue; bits++)
        {
            var value = BFloat16.FromBits((ushort)bits);
            float widened = (float)value;
            if (float.IsNaN(widened))
            {
                Assert.True(float.IsNaN((float)(BFloat16)widened), $"bits 0x{bits:X4}");
                continue;
            }
            Assert.Equal(value.Bits, ((BFloat16)widened).Bits);
        }
    }

    [Fact]
    public void Rounding_error_is_at_most_half_an_ulp_on_random_floats()
    {
        var random = new Random(7);
        for (int i = 0; i < 100_000; i++)
        {
            float x = (float)((random.NextDouble() * 2 - 1) * Math.Pow(2, random.Next(-60, 60)));
            double rounded = (float)(BFloat16)x;
            double ulp = Math.Pow(2, Math.Floor(Math.Log2(Math.Abs(x))) - 7);
            Assert.True(Math.Abs(rounded - x) <= ulp / 2, $"x = {x:R} rounded to {rounded:R} (seed 7)");
        }
    }

    [Fact]
    public void NaN_stays_NaN()
        => Assert.True(float.IsNaN((float)(BFloat16)float.NaN));
}
