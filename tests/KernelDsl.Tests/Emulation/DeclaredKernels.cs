using System;
using System.Collections.Generic;
using System.Linq;
using System.Reflection;
using KernelDsl.Generated;
using Xunit;

namespace KernelDsl.Tests.Emulation;

/// <summary>
/// Every generated kernel class in this test assembly, as the generator lists them (<see cref="AssemblyKernels"/>):
/// the tests' own kernels and those of the samples, benchmarks, GPU runner and ring host (their Kernels.cs files are
/// compiled in here as well).
/// </summary>
public static class DeclaredKernels
{
    private static readonly Type[] Types = Collector.Visit();

    public static IEnumerable<Type> Of<TInfo>() => Types.Where(type => Info(type) is TInfo);

    public static Type Named(string fullName) => Array.Find(Types, type => type.FullName == fullName)
        ?? throw new ArgumentException("No generated kernel " + fullName, nameof(fullName));

    public static object? Info(Type kernel) => kernel.GetProperty("Info", BindingFlags.Public | BindingFlags.Static)!.GetValue(null);

    /// <summary>The kernels of one family as theory data, by full name (readable in the test list).</summary>
    public static TheoryData<string> Names<TInfo>()
    {
        var data = new TheoryData<string>();
        foreach (Type type in Of<TInfo>())
        {
            data.Add(type.FullName!);
        }

        return data;
    }

    /// <summary>The CLR type of a kernel element.</summary>
    public static Type ClrType(Element element) => element switch
    {
        Element.F16 => typeof(Half),
        Element.BF16 => typeof(BFloat16),
        _ => typeof(float),
    };

    /// <summary>The kernel classes (the <c>Kernel</c> types' declaring classes), by full name.</summary>
    private sealed class Collector : IKernelVisitor
    {
        private readonly List<Type> types = [];

        public static Type[] Visit()
        {
            var collector = new Collector();
            AssemblyKernels.Visit(collector);
            return collector.types.OrderBy(type => type.FullName, StringComparer.Ordinal).ToArray();
        }

        public void Gemm<TKernel, TInput, TOutput>()
            where TKernel : IGemmKernel<TInput, TOutput>
            where TInput : unmanaged
            where TOutput : unmanaged
            => types.Add(typeof(TKernel).DeclaringType!);

        public void Attention<TKernel, TElement>()
            where TKernel : IAttentionKernel<TElement>
            where TElement : unmanaged
            => types.Add(typeof(TKernel).DeclaringType!);
    }
}
