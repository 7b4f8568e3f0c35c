using System;
using System.Text;
using System.Threading;

namespace KernelDsl.Cuda;

/// <summary>
/// Compiled device code loaded into <see cref="CudaDevice.Default"/>'s context, from a CUBIN
/// or from PTX (which the driver JIT-compiles for the device). <see cref="KernelCache"/> loads
/// and keeps modules for generated kernels; load one yourself only for hand-written code.
/// </summary>
public sealed class CudaModule : IDisposable
{
    private readonly CudaDevice device;
    private readonly IntPtr handle;
    private int disposed;

    private CudaModule(CudaDevice device, IntPtr handle)
    {
        this.device = device;
        this.handle = handle;
    }

    /// <summary>Loads a CUBIN (or fatbin) built for this device's architecture.</summary>
    /// <param name="cubin">The image, e.g. <see cref="NvrtcResult.Image"/> of a CUBIN compile.</param>
    /// <returns>The loaded module.</returns>
    /// <exception cref="ArgumentException"><paramref name="cubin"/> is empty.</exception>
    /// <exception cref="CudaUnavailableException">There is no CUDA device.</exception>
    /// <exception cref="CudaException">The driver rejected the image, e.g. <c>CUDA_ERROR_NO_BINARY_FOR_GPU</c> for another architecture.</exception>
    public static CudaModule LoadCubin(ReadOnlySpan<byte> cubin)
    {
        if (cubin.IsEmpty)
        {
            throw new ArgumentException("The CUBIN image is empty.", nameof(cubin));
        }

        return Load(cubin);
    }

    /// <summary>Loads PTX text; the driver JIT-compiles it for the device.</summary>
    /// <param name="ptx">PTX for a virtual architecture the device is at least.</param>
    /// <returns>The loaded module.</returns>
    /// <exception cref="ArgumentException"><paramref name="ptx"/> is empty.</exception>
    /// <exception cref="CudaUnavailableException">There is no CUDA device.</exception>
    /// <exception cref="CudaException">The JIT failed, e.g. <c>CUDA_ERROR_UNSUPPORTED_PTX_VERSION</c> when the driver is older than the compiler.</exception>
    public static CudaModule LoadPtx(string ptx)
    {
        ArgumentException.ThrowIfNullOrEmpty(ptx);
        return Load(PtxImage(Encoding.UTF8.GetBytes(ptx)));
    }

    /// <summary>Finds a <c>__global__</c> function by its (<c>extern "C"</c>, unmangled) name.</summary>
    /// <param name="name">The entry point.</param>
    /// <returns>The function, with its resource attributes read.</returns>
    /// <exception cref="ObjectDisposedException">The module was unloaded.</exception>
    /// <exception cref="CudaException">No such entry (<c>CUDA_ERROR_NOT_FOUND</c>).</exception>
    public CudaFunction GetFunction(string name)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        IntPtr module = Handle;
        CudaDriver.Check(CudaDriver.cuModuleGetFunction(out IntPtr function, module, name), nameof(CudaDriver.cuModuleGetFunction));
        return new CudaFunction(this, device, name, function);
    }

    /// <summary>Unloads the module; its functions cannot be launched afterwards. Later calls do nothing.</summary>
    /// <exception cref="CudaException">The driver refused to unload.</exception>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref disposed, 1) != 0)
        {
            return;
        }

        device.MakeCurrent();
        CudaDriver.Check(CudaDriver.cuModuleUnload(handle), nameof(CudaDriver.cuModuleUnload));
    }

    /// <summary>Loads <paramref name="image"/> as NVRTC produced it: PTX without its NUL, or a CUBIN.</summary>
    internal static CudaModule Load(byte[] image, CudaOutput output) =>
        output == CudaOutput.Ptx ? Load(PtxImage(image)) : LoadCubin(image);

    /// <summary>The <c>CUmodule</c>, with the context made current.</summary>
    /// <exception cref="ObjectDisposedException">The module was unloaded.</exception>
    internal IntPtr Handle
    {
        get
        {
            ThrowIfDisposed();
            device.MakeCurrent();
            return handle;
        }
    }

    /// <summary>Throws <see cref="ObjectDisposedException"/> once the module was unloaded.</summary>
    internal void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(Volatile.Read(ref disposed) != 0, this);

    // cuModuleLoadData tells PTX from CUBIN by content and reads PTX as a C string, so the text
    // needs its terminating NUL.
    private static byte[] PtxImage(byte[] text)
    {
        byte[] image = new byte[text.Length + 1];
        text.CopyTo(image, 0);
        return image;
    }

    private static unsafe CudaModule Load(ReadOnlySpan<byte> image)
    {
        CudaDevice device = CudaDevice.Default;
        device.MakeCurrent();
        fixed (byte* data = image)
        {
            CudaDriver.Check(CudaDriver.cuModuleLoadData(out IntPtr module, data), nameof(CudaDriver.cuModuleLoadData));
            return new CudaModule(device, module);
        }
    }
}
