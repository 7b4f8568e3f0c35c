using System;
using System.Runtime.CompilerServices;

namespace KernelDsl.GpuRunner;

/// <summary>
/// The element traits of <typeparamref name="T"/> when only <typeparamref name="T"/> is known (a kernel handed over
/// by <see cref="IKernelVisitor"/>): each member forwards to <see cref="F32"/>, <see cref="F16"/> or
/// <see cref="BF16"/>. The <c>typeof</c> tests are constants in each instantiation, so the JIT and Native AOT keep one
/// branch.
/// </summary>
internal readonly struct ElementOf<T> : IElement<T>
    where T : unmanaged
{
    public static string Name => Pick(F32.Name, F16.Name, BF16.Name);

    public static int CudaDataType => Pick(F32.CudaDataType, F16.CudaDataType, BF16.CudaDataType);

    public static double Tolerance => Pick(F32.Tolerance, F16.Tolerance, BF16.Tolerance);

    public static T NaN => From(float.NaN);

    public static T From(float value) =>
        typeof(T) == typeof(float) ? As(F32.From(value)) :
        typeof(T) == typeof(Half) ? As(F16.From(value)) :
        typeof(T) == typeof(BFloat16) ? As(BF16.From(value)) :
        throw Unsupported();

    public static double ToDouble(T value) =>
        typeof(T) == typeof(float) ? F32.ToDouble(Unsafe.As<T, float>(ref value)) :
        typeof(T) == typeof(Half) ? F16.ToDouble(Unsafe.As<T, Half>(ref value)) :
        typeof(T) == typeof(BFloat16) ? BF16.ToDouble(Unsafe.As<T, BFloat16>(ref value)) :
        throw Unsupported();

    public static bool IsNaN(T value) => double.IsNaN(ToDouble(value));

    private static TValue Pick<TValue>(TValue f32, TValue f16, TValue bf16) =>
        typeof(T) == typeof(float) ? f32 : typeof(T) == typeof(Half) ? f16 : typeof(T) == typeof(BFloat16) ? bf16 : throw Unsupported();

    private static T As<TFrom>(TFrom value) => Unsafe.As<TFrom, T>(ref value);

    private static NotSupportedException Unsupported() => new("No element traits for " + typeof(T));
}
