using System;
using KernelDsl.Cuda;
using Xunit;

namespace KernelDsl.Tests.Cuda;

public sealed class ArchitectureLimitsTests
{
    [Theory]
    [InlineData(80, 166912)]  // A100: 163 KB of its 164 KB per SM
    [InlineData(86, 101376)]
    [InlineData(89, 101376)]
    [InlineData(90, 232448)]  // H100/H200: 227 KB
    public void Opt_in_shared_memory_per_block(int arch, int bytes)
    {
        Assert.Equal(bytes, ArchitectureLimits.MaxSharedBytesPerBlock(arch));
    }

    [Fact]
    public void Unknown_architecture_throws()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => ArchitectureLimits.MaxSharedBytesPerBlock(42));
    }
}
