using System;
using KernelDsl.Cpu;

namespace KernelDsl.Tests.Cpu;

/// <summary>The generated <c>Run</c> (leading-dimension overload) of one test kernel, bias always passed.</summary>
public delegate void RunGemm(
    ReadOnlySpan<float> a, int lda, ReadOnlySpan<float> b, int ldb, Span<float> c, int ldc,
    int m, int n, int k, ReadOnlySpan<float> bias, float alpha, float beta, CpuIsa? isa);

/// <summary>A generated test kernel with what it computes, so a reference can be built for it.</summary>
public sealed record GemmKernel(string Name, bool TransposeA, bool TransposeB, bool Bias, Activation Activation, RunGemm Run)
{
    public static readonly GemmKernel Plain = new(nameof(Cpu.Plain), false, false, false, Activation.None,
        (a, lda, b, ldb, c, ldc, m, n, k, _, alpha, beta, isa) => Cpu.Plain.Run(a, lda, b, ldb, c, ldc, m, n, k, alpha, beta, isa));

    public static readonly GemmKernel TransposedA = new(nameof(Cpu.TransposedA), true, false, false, Activation.None,
        (a, lda, b, ldb, c, ldc, m, n, k, _, alpha, beta, isa) => Cpu.TransposedA.Run(a, lda, b, ldb, c, ldc, m, n, k, alpha, beta, isa));

    public static readonly GemmKernel TransposedB = new(nameof(Cpu.TransposedB), false, true, false, Activation.None,
        (a, lda, b, ldb, c, ldc, m, n, k, _, alpha, beta, isa) => Cpu.TransposedB.Run(a, lda, b, ldb, c, ldc, m, n, k, alpha, beta, isa));

    public static readonly GemmKernel TransposedAB = new(nameof(Cpu.TransposedAB), true, true, false, Activation.None,
        (a, lda, b, ldb, c, ldc, m, n, k, _, alpha, beta, isa) => Cpu.TransposedAB.Run(a, lda, b, ldb, c, ldc, m, n, k, alpha, beta, isa));

    public static readonly GemmKernel BiasOnly = new(nameof(Cpu.BiasOnly), false, false, true, Activation.None,
        (a, lda, b, ldb, c, ldc, m, n, k, bias, alpha, beta, isa) => Cpu.BiasOnly.Run(a, lda, b, ldb, c, ldc, m, n, k, bias, alpha, beta, isa));

    public static readonly GemmKernel BiasRelu = new(nameof(Cpu.BiasRelu), false, false, true, Activation.Relu,
        (a, lda, b, ldb, c, ldc, m, n, k, bias, alpha, beta, isa) => Cpu.BiasRelu.Run(a, lda, b, ldb, c, ldc, m, n, k, bias, alpha, beta, isa));

    public static readonly GemmKernel BiasGelu = new(nameof(Cpu.BiasGelu), false, true, true, Activation.Gelu,
        (a, lda, b, ldb, c, ldc, m, n, k, bias, alpha, beta, isa) => Cpu.BiasGelu.Run(a, lda, b, ldb, c, ldc, m, n, k, bias, alpha, beta, isa));

    public static readonly GemmKernel Silu = new(nameof(Cpu.Silu), false, false, false, Activation.Silu,
        (a, lda, b, ldb, c, ldc, m, n, k, _, alpha, beta, isa) => Cpu.Silu.Run(a, lda, b, ldb, c, ldc, m, n, k, alpha, beta, isa));

    public static readonly GemmKernel[] Transposes = [Plain, TransposedA, TransposedB, TransposedAB];

    public static readonly GemmKernel[] Epilogues = [BiasOnly, BiasRelu, BiasGelu, Silu];

    public static readonly GemmKernel[] All = [.. Transposes, .. Epilogues];

    public static GemmKernel Named(string name) => Array.Find(All, kernel => kernel.Name == name)
        ?? throw new ArgumentException("No test kernel " + name, nameof(name));

    public override string ToString() => Name;
}
