using System;
using System.Diagnostics;
using System.Runtime.CompilerServices;
using KernelDsl.Cpu;

namespace KernelDsl.Tests.Cpu;

/// <summary>
/// A generated test kernel with what it computes, so a reference can be built for it. Checks hand it
/// float arrays holding values of its element types (already rounded to them); <see cref="Run"/>
/// converts them exactly to the kernel's span types and C back.
/// </summary>
public abstract class GemmKernel(GemmInfo info)
{
    public static readonly GemmKernel Plain = Of<Cpu.Plain.Kernel, float, float>();

    public static readonly GemmKernel TransposedA = Of<Cpu.TransposedA.Kernel, float, float>();

    public static readonly GemmKernel TransposedB = Of<Cpu.TransposedB.Kernel, float, float>();

    public static readonly GemmKernel TransposedAB = Of<Cpu.TransposedAB.Kernel, float, float>();

    public static readonly GemmKernel BiasOnly = Of<Cpu.BiasOnly.Kernel, float, float>();

    public static readonly GemmKernel BiasRelu = Of<Cpu.BiasRelu.Kernel, float, float>();

    public static readonly GemmKernel BiasGelu = Of<Cpu.BiasGelu.Kernel, float, float>();

    public static readonly GemmKernel Silu = Of<Cpu.Silu.Kernel, float, float>();

    public static readonly GemmKernel HalfToFloat = Of<Cpu.HalfToFloat.Kernel, Half, float>();

    public static readonly GemmKernel HalfToHalf = Of<Cpu.HalfToHalf.Kernel, Half, Half>();

    public static readonly GemmKernel HalfToBFloat16 = Of<Cpu.HalfToBFloat16.Kernel, Half, BFloat16>();

    public static readonly GemmKernel BFloat16ToFloat = Of<Cpu.BFloat16ToFloat.Kernel, BFloat16, float>();

    public static readonly GemmKernel BFloat16ToBFloat16 = Of<Cpu.BFloat16ToBFloat16.Kernel, BFloat16, BFloat16>();

    public static readonly GemmKernel BFloat16ToHalf = Of<Cpu.BFloat16ToHalf.Kernel, BFloat16, Half>();

    public static readonly GemmKernel[] Transposes = [Plain, TransposedA, TransposedB, TransposedAB];

    public static readonly GemmKernel[] Epilogues = [BiasOnly, BiasRelu, BiasGelu, Silu];

    /// <summary>16-bit operands: each input type with each output type, the four transposes and the epilogues spread over them.</summary>
    public static readonly GemmKernel[] SixteenBit = [HalfToFloat, HalfToHalf, HalfToBFloat16, BFloat16ToFloat, BFloat16ToBFloat16, BFloat16ToHalf];

    public static readonly GemmKernel[] All = [.. Transposes, .. Epilogues, .. SixteenBit];

    /// <summary>The class name (the generated Info names it qualified).</summary>
    public string Name { get; } = info.Name[(info.Name.LastIndexOf('.') + 1)..];

    /// <summary>Element type of A and B.</summary>
    public Element Input { get; } = info.Element;

    /// <summary>Element type of C and the bias.</summary>
    public Element Output { get; } = info.Output;

    public bool TransposeA { get; } = info.TransposeA;
    public bool TransposeB { get; } = info.TransposeB;
    public bool Bias { get; } = info.Bias;
    public Activation Activation { get; } = info.Activation;

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

    /// <summary>The generated kernel <typeparamref name="TKernel"/>, called through its <see cref="IGemmKernel{TInput, TOutput}"/>.</summary>
    private static GemmKernel Of<TKernel, TInput, TOutput>()
        where TKernel : IGemmKernel<TInput, TOutput>
        where TInput : unmanaged
        where TOutput : unmanaged
        => new Typed<TKernel, TInput, TOutput>();

    private sealed class Typed<TKernel, TInput, TOutput>() : GemmKernel(TKernel.Info)
        where TKernel : IGemmKernel<TInput, TOutput>
        where TInput : unmanaged
        where TOutput : unmanaged
    {
        public override TimeSpan Run(float[] a, int lda, float[] b, int ldb, float[] c, int ldc, int m, int n, int k, float[] bias, float alpha, float beta, CpuIsa? isa)
        {
            TOutput[] typedC = Convert<TOutput>(c);
            var (typedA, typedB, typedBias) = (Convert<TInput>(a), Convert<TInput>(b), Convert<TOutput>(bias));
            var clock = Stopwatch.StartNew();
            TKernel.Run(typedA, lda, typedB, ldb, typedC, ldc, m, n, k, Bias ? typedBias : default, alpha, beta, isa);
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
