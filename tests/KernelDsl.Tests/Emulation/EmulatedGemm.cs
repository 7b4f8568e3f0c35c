using System;
using System.Linq;
using System.Reflection;
using System.Runtime.ExceptionServices;
using KernelDsl.Cuda;
using KernelDsl.Tests.Cuda;

namespace KernelDsl.Tests.Emulation;

/// <summary>
/// Runs a generated GEMM's device <c>Launch</c> (the leading-dimension overload, found by reflection) on an emulated
/// device (<see cref="CudaDevice.Emulator"/> unless named): float arrays holding values of the kernel's element types go
/// up converted exactly, C comes back as floats.
/// </summary>
public static class EmulatedGemm
{
    public static float[] Run(
        Type kernel, float[] a, int lda, float[] b, int ldb, float[] c, int ldc, int m, int n, int k, float[] bias, float alpha, float beta,
        CudaDevice? device = null)
    {
        var info = (GemmInfo)DeclaredKernels.Info(kernel)!;
        MethodInfo launch = kernel.GetMethods(BindingFlags.Public | BindingFlags.Static)
            .Where(method => method.Name == "Launch")
            .OrderByDescending(method => method.GetParameters().Length)
            .First();
        MethodInfo run = typeof(EmulatedGemm).GetMethod(nameof(RunTyped), BindingFlags.NonPublic | BindingFlags.Static)!
            .MakeGenericMethod(DeclaredKernels.ClrType(info.Element), DeclaredKernels.ClrType(info.Output));
        return (float[])Invoke(run, null, [device ?? CudaDevice.Emulator, launch, info.Bias, a, lda, b, ldb, c, ldc, m, n, k, bias, alpha, beta])!;
    }

    /// <summary>Invokes, rethrowing what the method threw rather than reflection's wrapper.</summary>
    public static object? Invoke(MethodInfo method, object? target, object?[] arguments)
    {
        try
        {
            return method.Invoke(target, arguments);
        }
        catch (TargetInvocationException e) when (e.InnerException is not null)
        {
            ExceptionDispatchInfo.Capture(e.InnerException).Throw();
            throw;
        }
    }

    private static float[] RunTyped<TIn, TOut>(
        CudaDevice device, MethodInfo launch, bool hasBias, float[] a, int lda, float[] b, int ldb, float[] c, int ldc, int m, int n, int k, float[] bias,
        float alpha, float beta)
        where TIn : unmanaged
        where TOut : unmanaged
    {
        using var stream = new CudaStream(device);
        using var deviceA = DeviceBuffers.Upload(device, Convert<TIn>(a));
        using var deviceB = DeviceBuffers.Upload(device, Convert<TIn>(b));
        using var deviceC = DeviceBuffers.Upload(device, Convert<TOut>(c));
        using var deviceBias = DeviceBuffers.Upload(device, Convert<TOut>(bias));
        object[] arguments = hasBias
            ? [stream, deviceA, lda, deviceB, ldb, deviceC, ldc, m, n, k, deviceBias, alpha, beta]
            : [stream, deviceA, lda, deviceB, ldb, deviceC, ldc, m, n, k, alpha, beta];
        Invoke(launch, null, arguments);
        var result = new TOut[c.Length];
        deviceC.CopyTo(result, stream);
        return Array.ConvertAll(result, ToFloat);
    }

    public static T[] Convert<T>(float[] values)
        where T : unmanaged => Array.ConvertAll(values, FromFloat<T>);

    public static T FromFloat<T>(float value)
        where T : unmanaged
    {
        if (typeof(T) == typeof(Half))
        {
            return (T)(object)(Half)value;
        }

        return typeof(T) == typeof(BFloat16) ? (T)(object)(BFloat16)value : (T)(object)value;
    }

    public static float ToFloat<T>(T value)
        where T : unmanaged => value switch
        {
            Half half => (float)half,
            BFloat16 bf16 => (float)bf16,
            float single => single,
            _ => throw new NotSupportedException(typeof(T).Name),
        };
}
