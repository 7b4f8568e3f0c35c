using System;
using System.Diagnostics;
using System.Runtime.CompilerServices;
using KernelDsl.Cpu;

namespace KernelDsl.Tests.Cpu;

/// <summary>The generated <c>Run</c> (leading-dimension overload) of one test kernel, bias always passed.</summary>
public delegate void RunGemm<TInput, TOutput>(
    ReadOnlySpan<TInput> a, int lda, ReadOnlySpan<TInput> b, int ldb, Span<TOutput> c, int ldc,
    int m, int n, int k, ReadOnlySpan<TOutput> bias, float alpha, float beta, CpuIsa? isa);

/// <summary>
/// A generated test kernel with what it computes, so a reference can be built for it. Checks hand it
/// float arrays holding values of its element types (already rounded to them); <see cref="Run"/>
/// converts them exactly to the kernel's span types and C back.
/// </summary>
public abstract class GemmKernel(string name, Element input, Element output, bool transposeA, bool transposeB, bool bias, Activation activation)
{
    public static readonly GemmKernel Plain = Create<float, float>(nameof(Cpu.Plain), false, false, false, Activation.None,
        (a, lda, b, ldb, c, ldc, m, n, k, _, alpha, beta, isa) => Cpu.Plain.Run(a, lda, b, ldb, c, ldc, m, n, k, alpha, beta, isa));

    public static readonly GemmKernel TransposedA = Create<float, float>(nameof(Cpu.TransposedA), true, false, false, Activation.None,
        (a, lda, b, ldb, c, ldc, m, n, k, _, alpha, beta, isa) => Cpu.TransposedA.Run(a, lda, b, ldb, c, ldc, m, n, k, alpha, beta, isa));

    public static readonly GemmKernel TransposedB = Create<float, float>(nameof(Cpu.TransposedB), false, true, false, Activation.None,
        (a, lda, b, ldb, c, ldc, m, n, k, _, alpha, beta, isa) => Cpu.TransposedB.Run(a, lda, b, ldb, c, ldc, m, n, k, alpha, beta, isa));

    public static readonly GemmKernel TransposedAB = Create<float, float>(nameof(Cpu.TransposedAB), true, true, false, Activation.None,
        (a, lda, b, ldb, c, ldc, m, n, k, _, alpha, beta, isa) => Cpu.TransposedAB.Run(a, lda, b, ldb, c, ldc, m, n, k, alpha, beta, isa));

    public static readonly GemmKernel BiasOnly = Create<float, float>(nameof(Cpu.BiasOnly), false, false, true, Activation.None,
        (a, lda, b, ldb, c, ldc, m, n, k, bias, alpha, beta, isa) => Cpu.BiasOnly.Run(a, lda, b, ldb, c, ldc, m, n, k, bias, alpha, beta, isa));

    public static readonly GemmKernel BiasRelu = Create<float, float>(nameof(Cpu.BiasRelu), false, false, true, Activation.Relu,
        (a, lda, b, ldb, c, ldc, m, n, k, bias, alpha, beta, isa) => Cpu.BiasRelu.Run(a, lda, b, ldb, c, ldc, m, n, k, bias, alpha, beta, isa));

    public static readonly GemmKernel BiasGelu = Create<float, float>(nameof(Cpu.BiasGelu), false, true, true, Activation.Gelu,
        (a, lda, b, ldb, c, ldc, m, n, k, bias, alpha, beta, isa) => Cpu.BiasGelu.Run(a, lda, b, ldb, c, ldc, m, n, k, bias, alpha, beta, isa));

    public static readonly GemmKernel Silu = Create<float, float>(nameof(Cpu.Silu), false, false, false, Activation.Silu,
        (a, lda, b, ldb, c, ldc, m, n, k, _, alpha, beta, isa) => Cpu.Silu.Run(a, lda, b, ldb, c, ldc, m, n, k, alpha, beta, isa));

    public static readonly GemmKernel HalfToFloat = Create<Half, float>(nameof(Cpu.HalfToFloat), false, false, false, Activation.None,
        (a, lda, b, ldb, c, ldc, m, n, k, _, alpha, beta, isa) => Cpu.HalfToFloat.Run(a, lda, b, ldb, c, ldc, m, n, k, alpha, beta, isa));

    public static readonly GemmKernel HalfToHalf = Create<Half, Half>(nameof(Cpu.HalfToHalf), true, false, false, Activation.None,
        (a, lda, b, ldb, c, ldc, m, n, k, _, alpha, beta, isa) => Cpu.HalfToHalf.Run(a, lda, b, ldb, c, ldc, m, n, k, alpha, beta, isa));

    public static readonly GemmKernel HalfToBFloat16 = Create<Half, BFloat16>(nameof(Cpu.HalfToBFloat16), false, true, true, Activation.Gelu,
        (a, lda, b, ldb, c, ldc, m, n, k, bias, alpha, beta, isa) => Cpu.HalfToBFloat16.Run(a, lda, b, ldb, c, ldc, m, n, k, bias, alpha, beta, isa));

    public static readonly GemmKernel BFloat16ToFloat = Create<BFloat16, float>(nameof(Cpu.BFloat16ToFloat), true, true, true, Activation.Relu,
        (a, lda, b, ldb, c, ldc, m, n, k, bias, alpha, beta, isa) => Cpu.BFloat16ToFloat.Run(a, lda, b, ldb, c, ldc, m, n, k, bias, alpha, beta, isa));

    public static readonly GemmKernel BFloat16ToBFloat16 = Create<BFloat16, BFloat16>(nameof(Cpu.BFloat16ToBFloat16), false, false, false, Activation.None,
        (a, lda, b, ldb, c, ldc, m, n, k, _, alpha, beta, isa) => Cpu.BFloat16ToBFloat16.Run(a, lda, b, ldb, c, ldc, m, n, k, alpha, beta, isa));

    public static readonly GemmKernel BFloat16ToHalf = Create<BFloat16, Half>(nameof(Cpu.BFloat16ToHalf), false, true, true, Activation.Silu,
        (a, lda, b, ldb, c, ldc, m, n, k, bias, alpha, beta, isa) => Cpu.BFloat16ToHalf.Run(a, lda, b, ldb, c, ldc, m, n, k, bias, alpha, beta, isa));

    public static readonly GemmKernel[] Transposes = [Plain, TransposedA, TransposedB, TransposedAB];

    public static readonly GemmKernel[] Epilogues = [BiasOnly, BiasRelu, BiasGelu, Silu];

    /// <summary>16-bit operands: each input type with each output type, the four transposes and the epilogues spread over them.</summary>
    public static readonly GemmKernel[] SixteenBit = [HalfToFloat, HalfToHalf, HalfToBFloat16, BFloat16ToFloat, BFloat16ToBFloat16, BFloat16ToHalf];

    public static readonly GemmKernel[] All = [.. Transposes, .. Epilogues, .. SixteenBit];

    public string Name { get; } = name;

    /// <summary>Element type of A and B.</summary>
    public Element Input { get; } = input;

    /// <summary>Element type of C and the bias.</summary>
    public Element Output { get; } = output;

    public bool TransposeA { get; } = transposeA;
    public bool TransposeB { get; } = transposeB;
    public bool Bias { get; } = bias;
    public Activation Activation { get; } = activation;

    public static GemmKernel Named(string name) => Array.Find(All, kernel => kernel.Name == name)
        ?? throw new ArgumentException("No test kernel " + name, nameof(name));

    /// <summary>
    /// Runs the kernel on float arrays holding values of its element types (A and B of <see cref="Input"/>,
    /// C and the bias of <see cref="Output"/>); C receives the result. Returns the time of the generated <c>Run</c> alone.
    /// </summary>
    public abstract TimeSpan Run(float[] a, int lda, float[] b, int ldb, float[] c, int ldc, int m, int n, int k, float[] bias, float alpha, float beta, CpuIsa? isa);

    /// <summary><paramref name="value"/> rounded to nearest even in <paramref name="element"/>, as a float.</summary>
    public static float Round(Element element, double value) => element switch
    {
        Element.F16 => (float)(Half)value,
        Element.BF16 => (float)(BFloat16)(float)value,
        _ => (float)value,
    };

    public override string ToString() => Name;

    private static GemmKernel Create<TInput, TOutput>(string name, bool transposeA, bool transposeB, bool bias, Activation activation, RunGemm<TInput, TOutput> run)
        where TInput : unmanaged
        where TOutput : unmanaged
        => new Typed<TInput, TOutput>(name, transposeA, transposeB, bias, activation, run);

    private static Element ElementOf<T>()
        => typeof(T) == typeof(Half) ? Element.F16 : typeof(T) == typeof(BFloat16) ? Element.BF16 : Element.F32;

    private sealed class Typed<TInput, TOutput>(string name, bool transposeA, bool transposeB, bool bias, Activation activation, RunGemm<TInput, TOutput> run)
        : GemmKernel(name, ElementOf<TInput>(), ElementOf<TOutput>(), transposeA, transposeB, bias, activation)
        where TInput : unmanaged
        where TOutput : unmanaged
    {
        public override TimeSpan Run(float[] a, int lda, float[] b, int ldb, float[] c, int ldc, int m, int n, int k, float[] bias, float alpha, float beta, CpuIsa? isa)
        {
            TOutput[] typedC = Convert<TOutput>(c);
            var (typedA, typedB, typedBias) = (Convert<TInput>(a), Convert<TInput>(b), Convert<TOutput>(bias));
            var clock = Stopwatch.StartNew();
            run(typedA, lda, typedB, ldb, typedC, ldc, m, n, k, typedBias, alpha, beta, isa);
            var elapsed = clock.Elapsed;
            if (!ReferenceEquals(typedC, c))
            {
                for (int i = 0; i < c.Length; i++)
                {
                    c[i] = ToFloat(typedC[i]);
                }
            }
            return elapsed;
        }

        /// <summary>The same array when it is already of type <typeparamref name="T"/>, else an exact conversion (the values are representable).</summary>
        private static T[] Convert<T>(float[] values) where T : unmanaged
        {
            if (values is T[] same)
            {
                return same;
            }
            var converted = new T[values.Length];
            for (int i = 0; i < values.Length; i++)
            {
                float value = values[i];
                if (typeof(T) == typeof(Half))
                {
                    var half = (Half)value;
                    converted[i] = Unsafe.As<Half, T>(ref half);
                }
                else
                {
                    var bfloat = (BFloat16)value;
                    converted[i] = Unsafe.As<BFloat16, T>(ref bfloat);
                }
            }
            return converted;
        }

        private static float ToFloat<T>(T value) where T : unmanaged
            => typeof(T) == typeof(Half) ? (float)Unsafe.As<T, Half>(ref value)
            : typeof(T) == typeof(BFloat16) ? (float)Unsafe.As<T, BFloat16>(ref value)
            : Unsafe.As<T, float>(ref value);
    }
}
