using System;
using System.Globalization;
using System.Threading;
using KernelDsl.Cpu;

namespace KernelDsl.Cuda;

/// <summary>The launches of one GEMM on device buffers, as generated code calls it.</summary>
/// <typeparam name="TIn">Element of A and B.</typeparam>
/// <typeparam name="TOut">Element of C and bias.</typeparam>
public delegate void DeviceGemm<TIn, TOut>(
    CudaStream stream, DeviceBuffer<TIn> a, DeviceBuffer<TIn> b, DeviceBuffer<TOut> c, DeviceBuffer<TOut> bias)
    where TIn : unmanaged
    where TOut : unmanaged;

/// <summary>
/// What every generated GEMM's <c>Launch</c> and <c>Compute</c> need beyond the kernel itself: loading
/// the compiled function once, the layout rules of the tensor-core path, and the host ↔ device round
/// trip of <c>Compute</c>. Used by generated code.
/// </summary>
public static class GemmLaunch
{
    /// <summary>Every generated kernel uses cp.async, so sm_80 (Ampere) or newer.</summary>
    public const int MinimumArch = 80;

    /// <summary>
    /// The kernel compiled for <paramref name="device"/>, loaded on first use and kept in <paramref name="cached"/>
    /// (a lookup in <see cref="KernelCache"/> hashes the whole source). The slot holds the last device's function, so a
    /// process that alternates between a GPU and the emulator looks the kernel up again at each switch.
    /// </summary>
    /// <exception cref="NotSupportedException">The device is older than sm_80.</exception>
    public static CudaFunction Load(ref CudaFunction? cached, CudaDevice device, string source, string entryPoint)
    {
        ArgumentNullException.ThrowIfNull(device);
        CudaFunction? function = Volatile.Read(ref cached);
        if (function is not null && function.Device == device)
        {
            return function;
        }
        if (device.Arch < MinimumArch)
        {
            throw new NotSupportedException(string.Create(CultureInfo.InvariantCulture,
                $"{entryPoint} needs sm_{MinimumArch} or newer (cp.async, mma.sync); {device.Name} is sm_{device.Arch}. Use the CPU fallback (Run)."));
        }
        function = KernelCache.GetOrLoad(device, source, entryPoint);
        Volatile.Write(ref cached, function);
        return function;
    }

    /// <summary>
    /// The tensor-core kernel copies A and B in 16-byte chunks of 8 elements: K must be a multiple of 8
    /// (a chunk along K is wholly inside or outside), and so must lda and ldb (every row starts 16-byte aligned).
    /// Only rows that are read matter: with M, N or K zero no element of A or B is, and nothing is checked.
    /// </summary>
    /// <exception cref="ArgumentException">
    /// K, lda or ldb is not a multiple of 8; names which, or for a dense call (<see cref="GemmArguments.IsDense"/>)
    /// the size m or n that the leading dimension is.
    /// </exception>
    public static void CheckTensorCoreLayout(in GemmArguments arguments)
    {
        if (arguments.IsEmpty || arguments.K == 0)
        {
            return;
        }
        MultipleOf8(arguments.K, "k", "A and B are read in chunks of 8 elements along K");
        bool dense = arguments.IsDense;
        MultipleOf8(arguments.Lda, dense ? (arguments.TransposeA ? "m" : "k") : "lda", dense
            ? "every row of A must start 16-byte aligned, and a dense A's rows are that long; pad them and pass lda"
            : "every row of A must start 16-byte aligned; pad the rows");
        MultipleOf8(arguments.Ldb, dense ? (arguments.TransposeB ? "k" : "n") : "ldb", dense
            ? "every row of B must start 16-byte aligned, and a dense B's rows are that long; pad them and pass ldb"
            : "every row of B must start 16-byte aligned; pad the rows");
    }

    private static void MultipleOf8(int value, string name, string why)
    {
        if (value % 8 != 0)
        {
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
                $"{name} = {value} must be a multiple of 8 on the tensor-core path: {why}."), name);
        }
    }

    /// <summary>
    /// Validates <paramref name="arguments"/> against the host spans; unless C is empty (then nothing is touched, not
    /// even the device), uploads A, B, bias (and C when β ≠ 0 or c holds more than C's elements) to the device of <paramref name="backend"/> (the GPU or
    /// the emulator), runs <paramref name="launch"/> on a new stream, waits, and downloads C. Copies are synchronous:
    /// the spans may be movable managed memory, which an asynchronous copy must not outlive. The device buffers live
    /// only for the call.
    /// </summary>
    /// <exception cref="ArgumentException">See <see cref="GemmArguments.Validate"/>.</exception>
    public static void RoundTrip<TIn, TOut>(
        KernelBackend backend, GemmArguments arguments, ReadOnlySpan<TIn> a, ReadOnlySpan<TIn> b, Span<TOut> c, ReadOnlySpan<TOut> bias,
        DeviceGemm<TIn, TOut> launch)
        where TIn : unmanaged
        where TOut : unmanaged
    {
        ArgumentNullException.ThrowIfNull(launch);
        arguments.Validate(a.Length, b.Length, c.Length, bias.Length);
        if (arguments.IsEmpty)
        {
            return;
        }
        // The kernel writes C's M×N elements only, but all of c comes back: whatever else it holds (the gaps between
        // rows ldc apart, a tail) must go up too. Only with β = 0 and nothing else in c is C not uploaded.
        bool uploadC = arguments.Beta != 0f || c.Length != (long)arguments.M * arguments.N;
        CudaDevice device = CudaDevice.For(backend);
        using var deviceA = Upload(device, a);
        using var deviceB = Upload(device, b);
        using var deviceBias = Upload(device, bias);
        using var deviceC = uploadC ? Upload<TOut>(device, c) : new DeviceBuffer<TOut>(c.Length, device);
        using var stream = new CudaStream(device);
        launch(stream, deviceA, deviceB, deviceC, deviceBias);
        stream.Synchronize();
        deviceC.CopyTo(c);
    }

    private static DeviceBuffer<T> Upload<T>(CudaDevice device, ReadOnlySpan<T> host)
        where T : unmanaged
    {
        var buffer = new DeviceBuffer<T>(host.Length, device);
        buffer.CopyFrom(host);
        return buffer;
    }
}
