using System;
using System.Globalization;
using System.Threading;

namespace KernelDsl.Cuda;

/// <summary>A <c>__global__</c> function of a loaded <see cref="CudaModule"/>, ready to launch.</summary>
public sealed class CudaFunction
{
    /// <summary>Threads one block may have on every architecture from sm_20 on.</summary>
    internal const int MaxThreadsPerBlockLimit = 1024;

    /// <summary>Limit of the grid's y and z extents (x goes to 2³¹ − 1).</summary>
    internal const int MaxGridYZ = 65535;

    /// <summary>Limit of the block's z extent (x and y go to 1024).</summary>
    internal const int MaxBlockZ = 64;

    private readonly CudaModule module;
    private readonly CudaDevice device;
    private readonly IntPtr handle;
    private readonly object raiseGate = new();
    private int maxDynamicSharedBytes;

    internal CudaFunction(CudaModule module, CudaDevice device, string name, IntPtr handle)
    {
        this.module = module;
        this.device = device;
        this.handle = handle;
        Name = name;
        Registers = Attribute(CudaDriver.FunctionAttribute.NumRegs);
        LocalBytes = Attribute(CudaDriver.FunctionAttribute.LocalSizeBytes);
        StaticSharedBytes = Attribute(CudaDriver.FunctionAttribute.SharedSizeBytes);
        MaxThreadsPerBlock = Attribute(CudaDriver.FunctionAttribute.MaxThreadsPerBlock);
        maxDynamicSharedBytes = Attribute(CudaDriver.FunctionAttribute.MaxDynamicSharedSizeBytes);
    }

    /// <summary>The entry point's name.</summary>
    public string Name { get; }

    /// <summary>Registers per thread.</summary>
    public int Registers { get; }

    /// <summary>Local memory per thread in bytes (register spills and stack arrays).</summary>
    public int LocalBytes { get; }

    /// <summary>Static (<c>__shared__</c>) shared memory per block; dynamic shared memory comes on top.</summary>
    public int StaticSharedBytes { get; }

    /// <summary>The most threads per block this function can launch with, given its register use.</summary>
    public int MaxThreadsPerBlock { get; }

    /// <summary>The device the function is loaded into.</summary>
    public CudaDevice Device => device;

    private IntPtr Handle
    {
        get
        {
            module.ThrowIfDisposed();
            return handle;
        }
    }

    /// <summary>
    /// Allows launches with up to <paramref name="bytes"/> of dynamic shared memory. Past the
    /// default limit (48 KiB less static shared memory) the driver needs an explicit opt-in
    /// (<c>CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES</c>); below it nothing is called.
    /// <see cref="Launch"/> does this by itself when asked for more than the current limit.
    /// </summary>
    /// <param name="bytes">Dynamic shared memory per block.</param>
    /// <exception cref="ArgumentOutOfRangeException">
    /// <paramref name="bytes"/> is negative or, with the static shared memory, exceeds
    /// <see cref="CudaDevice.MaxSharedBytesPerBlockOptin"/>.
    /// </exception>
    public void SetMaxDynamicSharedMemory(int bytes) => RaiseDynamicSharedLimit(bytes, nameof(bytes));

    /// <summary>Queues the kernel on <paramref name="stream"/>; returns without waiting for it.</summary>
    /// <param name="stream">The stream to queue on.</param>
    /// <param name="grid">Blocks along x, y and z: each at least 1, y and z at most 65535.</param>
    /// <param name="block">Threads along x, y and z: each at least 1, z at most 64, at most 1024 (and <see cref="MaxThreadsPerBlock"/>) in all.</param>
    /// <param name="sharedBytes">Dynamic shared memory per block; past the default limit it is opted into first.</param>
    /// <param name="arguments">The kernel's parameters in signature order.</param>
    /// <exception cref="ArgumentOutOfRangeException">A dimension or the shared memory size is out of range.</exception>
    /// <exception cref="ObjectDisposedException">The module or the stream was disposed.</exception>
    /// <exception cref="CudaException">The driver rejected the launch, e.g. <c>CUDA_ERROR_LAUNCH_OUT_OF_RESOURCES</c>.</exception>
    public unsafe void Launch(
        CudaStream stream, (int X, int Y, int Z) grid, (int X, int Y, int Z) block, int sharedBytes, KernelArguments arguments)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(arguments);
        ValidateLaunch(grid, block, sharedBytes);
        int threads = block.X * block.Y * block.Z;
        if (threads > MaxThreadsPerBlock)
        {
            throw new ArgumentOutOfRangeException(
                nameof(block),
                block,
                string.Create(CultureInfo.InvariantCulture, $"'{Name}' uses {Registers} registers per thread, so a block may have at most {MaxThreadsPerBlock} threads, not {threads}."));
        }

        if (stream.Device != device)
        {
            throw new ArgumentException($"'{Name}' is loaded on {device.Name} but the stream queues work on {stream.Device.Name}.", nameof(stream));
        }

        RaiseDynamicSharedLimit(sharedBytes, nameof(sharedBytes));
        IntPtr* parameters = arguments.Count == 0 ? null : (IntPtr*)arguments.ParameterArray;
        device.Driver.Launch(Handle, grid, block, sharedBytes, stream.Handle, parameters);

        // The parameter arrays are only reachable through the builder: keep it alive until the
        // driver has copied the values.
        GC.KeepAlive(arguments);
    }

    /// <summary>Checks launch dimensions against the limits every CUDA device shares, before any driver call.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A dimension or the shared memory size is out of range.</exception>
    internal static void ValidateLaunch((int X, int Y, int Z) grid, (int X, int Y, int Z) block, int sharedBytes)
    {
        if (grid.X < 1 || grid.Y < 1 || grid.Z < 1 || grid.Y > MaxGridYZ || grid.Z > MaxGridYZ)
        {
            throw new ArgumentOutOfRangeException(
                nameof(grid), grid, $"Every grid extent must be at least 1, and y and z at most {MaxGridYZ}.");
        }

        long threads = (long)block.X * block.Y * block.Z;
        if (block.X < 1 || block.Y < 1 || block.Z < 1 || block.Z > MaxBlockZ || threads > MaxThreadsPerBlockLimit)
        {
            throw new ArgumentOutOfRangeException(
                nameof(block),
                block,
                $"Every block extent must be at least 1, z at most {MaxBlockZ}, and the block at most {MaxThreadsPerBlockLimit} threads in all.");
        }

        ArgumentOutOfRangeException.ThrowIfNegative(sharedBytes);
    }

    private void RaiseDynamicSharedLimit(int bytes, string parameterName)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(bytes, parameterName);
        if (bytes <= Volatile.Read(ref maxDynamicSharedBytes))
        {
            return;
        }

        int ceiling = device.MaxSharedBytesPerBlockOptin - StaticSharedBytes;
        if (bytes > ceiling)
        {
            throw new ArgumentOutOfRangeException(
                parameterName,
                bytes,
                string.Create(CultureInfo.InvariantCulture, $"'{Name}' uses {StaticSharedBytes} B of static shared memory; {device.Name} allows " +
                $"{device.MaxSharedBytesPerBlockOptin} B per block in all, so at most {ceiling} B of dynamic shared memory."));
        }

        lock (raiseGate)
        {
            if (bytes > maxDynamicSharedBytes)
            {
                device.Driver.SetAttribute(Handle, CudaDriver.FunctionAttribute.MaxDynamicSharedSizeBytes, bytes);
                Volatile.Write(ref maxDynamicSharedBytes, bytes);
            }
        }
    }

    private int Attribute(CudaDriver.FunctionAttribute attribute) => device.Driver.GetAttribute(Handle, attribute);
}
