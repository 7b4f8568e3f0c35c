using System;
using System.Threading;
using KernelDsl.Cpu;

namespace KernelDsl.Cuda;

/// <summary>
/// The launch of a GEMM's sm_90a kernel (<see cref="GemmInfo.Sm90a"/>), as generated code calls it: whether the device
/// runs it, the two tensor maps, the persistent grid. Used by generated code.
/// </summary>
public static class HopperGemmLaunch
{
    /// <summary>
    /// Whether <paramref name="kernel"/>'s sm_90a kernel runs this call on <paramref name="device"/>: it has one, the device
    /// is compute capability 9.0 (wgmma and setmaxnreg exist on sm_90a only, not on later architectures), NVRTC can build
    /// sm_90a (12.0 or newer; the emulator needs none), and K &gt; 0 (a tensor map has no empty dimension; the sm_80
    /// kernel writes the epilogue of an empty product).
    /// </summary>
    public static bool Applies(GemmInfo kernel, CudaDevice device, in GemmArguments arguments)
    {
        ArgumentNullException.ThrowIfNull(kernel);
        ArgumentNullException.ThrowIfNull(device);
        return kernel.Sm90a is not null && device.Arch == 90 && arguments.K > 0 && (device.IsEmulated || KernelCache.CanCompileArchSpecific);
    }

    /// <summary>
    /// Queues the sm_90a kernel on <paramref name="stream"/> for arguments that passed the sm_80 kernel's checks
    /// (<see cref="GemmArguments.Validate"/>, <see cref="GemmLaunch.CheckTensorCoreLayout"/>) and where
    /// <see cref="Applies"/>: A (M×K, rows lda apart) and B (N×K, rows ldb apart) through tensor maps of the plan's
    /// boxes, one block per SM up to one per tile.
    /// </summary>
    /// <param name="cached">The slot of the loaded function (the last device's).</param>
    /// <param name="kernel">The generated kernel's <c>Info</c>.</param>
    /// <param name="source">Its <c>CudaSourceSm90a</c>.</param>
    /// <param name="stream">The stream to queue on.</param>
    /// <param name="a">A in device memory.</param>
    /// <param name="b">B in device memory.</param>
    /// <param name="c">C in device memory.</param>
    /// <param name="bias">The bias when the kernel adds one, else ignored.</param>
    /// <param name="arguments">Sizes, leading dimensions and scalars.</param>
    public static void Launch<TIn, TOut>(
        ref CudaFunction? cached, GemmInfo kernel, string source, CudaStream stream,
        DeviceBuffer<TIn> a, DeviceBuffer<TIn> b, DeviceBuffer<TOut> c, DeviceBuffer<TOut>? bias, in GemmArguments arguments)
        where TIn : unmanaged
        where TOut : unmanaged
    {
        ArgumentNullException.ThrowIfNull(kernel);
        ArgumentNullException.ThrowIfNull(stream);
        HopperGemmInfo plan = kernel.Sm90a ?? throw new ArgumentException($"{kernel.Name} has no sm_90a kernel.", nameof(kernel));
        CudaDevice device = stream.Device;
        CudaFunction? function = Volatile.Read(ref cached);
        if (function is null || function.Device != device)
        {
            function = KernelCache.GetOrLoadArchSpecific(device, source, plan.EntryPoint);
            Volatile.Write(ref cached, function);
        }

        TensorMap aMap = TensorMap.Encode2D(device, a.Pointer, kernel.Element, arguments.K, arguments.M, arguments.Lda * 2L, plan.BoxK, plan.TileM, plan.Swizzle);
        TensorMap bMap = TensorMap.Encode2D(device, b.Pointer, kernel.Element, arguments.K, arguments.N, arguments.Ldb * 2L, plan.BoxK, plan.TileN, plan.Swizzle);
        var parameters = new KernelArguments().Add(aMap).Add(bMap).Add(c);
        if (kernel.Bias)
        {
            parameters.Add(bias ?? throw new ArgumentNullException(nameof(bias)));
        }

        parameters.Add(arguments.M).Add(arguments.N).Add(arguments.K).Add(arguments.Ldc).Add(arguments.ProductScale).Add(arguments.Beta);
        int blocks = Math.Min(plan.TilesFor(arguments.M, arguments.N), device.MultiprocessorCount);
        function.Launch(stream, (blocks, 1, 1), (plan.Threads, 1, 1), plan.SharedMemoryBytes, parameters);
    }
}
