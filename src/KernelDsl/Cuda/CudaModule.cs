using System;
using System.Text;
using System.Threading;

namespace KernelDsl.Cuda;

/// <summary>
/// Compiled device code loaded into one device: from a CUBIN or from PTX (which the driver JIT-compiles for
/// the device) on a GPU, from a kernel library built by the C++ compiler on <see cref="CudaDevice.Emulator"/>.
/// <see cref="KernelCache"/> loads and keeps modules for generated kernels; load one yourself only for
/// hand-written code (CUBIN and PTX load into <see cref="CudaDevice.Default"/>, which must be a GPU).
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

        return LoadOnDefault(cubin);
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
        return LoadOnDefault(PtxImage(Encoding.UTF8.GetBytes(ptx)));
    }

    /// <summary>Finds a <c>__global__</c> function by its (<c>extern "C"</c>, unmangled) name.</summary>
    /// <param name="name">The entry point.</param>
    /// <returns>The function, with its resource attributes read.</returns>
    /// <exception cref="ObjectDisposedException">The module was unloaded.</exception>
    /// <exception cref="CudaException">No such entry (<c>CUDA_ERROR_NOT_FOUND</c>).</exception>
    public CudaFunction GetFunction(string name)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        return new CudaFunction(this, device, name, device.Driver.GetFunction(Handle, name));
    }

    /// <summary>Unloads the module; its functions cannot be launched afterwards. Later calls do nothing.</summary>
    /// <exception cref="CudaException">The driver refused to unload.</exception>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref disposed, 1) != 0)
        {
            return;
        }

        device.Driver.UnloadModule(handle);
    }

    /// <summary>Loads <paramref name="image"/> as NVRTC produced it: PTX without its NUL, or a CUBIN.</summary>
    internal static CudaModule Load(CudaDevice device, byte[] image, CudaOutput output) =>
        Load(device, output == CudaOutput.Ptx ? PtxImage(image) : image);

    /// <summary>Loads an emulated kernel library (<see cref="Emulation.EmulatorCompiler"/>) into an emulated <paramref name="device"/>.</summary>
    internal static CudaModule LoadEmulated(CudaDevice device, string libraryPath) =>
        Load(device, Encoding.UTF8.GetBytes(libraryPath));

    /// <summary>The driver's handle (a <c>CUmodule</c> on a GPU).</summary>
    /// <exception cref="ObjectDisposedException">The module was unloaded.</exception>
    internal IntPtr Handle
    {
        get
        {
            ThrowIfDisposed();
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

    private static CudaModule LoadOnDefault(ReadOnlySpan<byte> image)
    {
        CudaDevice device = CudaDevice.Default;
        if (device.IsEmulated)
        {
            throw new NotSupportedException(
                "The emulator runs CUDA C, not CUBIN or PTX: load kernels with KernelCache.GetOrLoad(source, entryPoint).");
        }

        return Load(device, image);
    }

    private static CudaModule Load(CudaDevice device, ReadOnlySpan<byte> image) => new(device, device.Driver.LoadModule(image));
}
