using System;
using System.Linq;
using System.Reflection;
using KernelDsl.Generated;
using KernelDsl.Tests.Emulation;
using Xunit;

namespace KernelDsl.Tests;

/// <summary>
/// The generated <see cref="AssemblyKernels"/> lists exactly the kernel classes this assembly declares (found here
/// independently, by reflection over the classes with a static <c>Info</c>), and each <c>Kernel</c> type's interface
/// members are the class's own.
/// </summary>
public sealed class AssemblyKernelsTests
{
    [Fact]
    public void Every_declared_kernel_is_listed_once()
    {
        var byReflection = typeof(AssemblyKernelsTests).Assembly.GetTypes()
            .Where(type => type.IsAbstract && type.IsSealed && type.GetProperty("Info", BindingFlags.Public | BindingFlags.Static) is { } info
                && (info.PropertyType == typeof(GemmInfo) || info.PropertyType == typeof(AttentionInfo)))
            .Select(type => type.FullName!)
            .Order(StringComparer.Ordinal);
        var listed = new Checker();
        AssemblyKernels.Visit(listed);

        Assert.Equal(byReflection, listed.Names.Order(StringComparer.Ordinal));
        Assert.Equal(AssemblyKernels.Count, listed.Names.Count);
        Assert.Equal(byReflection, DeclaredKernels.Of<object>().Select(type => type.FullName!));
    }

    /// <summary>Checks each kernel's interface members against the class's (the same Info object, the same CUDA text).</summary>
    private sealed class Checker : IKernelVisitor
    {
        public System.Collections.Generic.List<string> Names { get; } = [];

        public void Gemm<TKernel, TInput, TOutput>()
            where TKernel : IGemmKernel<TInput, TOutput>
            where TInput : unmanaged
            where TOutput : unmanaged
            => Check(typeof(TKernel), TKernel.Info, TKernel.CudaSource);

        public void Attention<TKernel, TElement>()
            where TKernel : IAttentionKernel<TElement>
            where TElement : unmanaged
            => Check(typeof(TKernel), TKernel.Info, TKernel.CudaSource);

        private void Check(Type kernel, object info, string cudaSource)
        {
            Type declaring = kernel.DeclaringType!;
            Assert.Same(declaring.GetProperty("Info", BindingFlags.Public | BindingFlags.Static)!.GetValue(null), info);
            Assert.Equal(declaring.GetField("CudaSource", BindingFlags.Public | BindingFlags.Static)!.GetValue(null), cudaSource);
            Names.Add(declaring.FullName!);
        }
    }
}
