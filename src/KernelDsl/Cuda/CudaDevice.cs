using System;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Threading;

namespace KernelDsl.Cuda;

/// <summary>
/// A CUDA device and its primary context, or the CPU emulator (<see cref="Emulator"/>), which runs the same
/// generated CUDA C with CUDA's semantics. Buffers, streams, events and kernels belong to one device; those
/// created without naming one belong to <see cref="Default"/>. Objects can be used from any thread.
/// </summary>
public sealed class CudaDevice
{
    // Probed once: whether a driver and a device exist does not change while a process runs,
    // and cuInit is not cheap. Null means available.
    private static readonly Lazy<string?> Unavailability = new(Probe, LazyThreadSafetyMode.ExecutionAndPublication);
    private static readonly object OpenGate = new();
    private static readonly Lazy<CudaDevice> EmulatedDevice = new(() => OpenEmulator(90), LazyThreadSafetyMode.ExecutionAndPublication);
    private static readonly Lazy<CudaDevice> EmulatedSm80Device = new(() => OpenEmulator(80), LazyThreadSafetyMode.ExecutionAndPublication);
    private static CudaDevice? opened;

    private CudaDevice(int ordinal, IntPtr context, int handle)
    {
        Ordinal = ordinal;
        var driver = new NativeDeviceDriver(context);
        Driver = driver;
        driver.MakeCurrent();
        Name = ReadName(handle);
        ComputeCapability = (
            Attribute(handle, CudaDriver.DeviceAttribute.ComputeCapabilityMajor),
            Attribute(handle, CudaDriver.DeviceAttribute.ComputeCapabilityMinor));
        MultiprocessorCount = Attribute(handle, CudaDriver.DeviceAttribute.MultiprocessorCount);
        MaxThreadsPerBlock = Attribute(handle, CudaDriver.DeviceAttribute.MaxThreadsPerBlock);
        MaxSharedBytesPerBlock = Attribute(handle, CudaDriver.DeviceAttribute.MaxSharedMemoryPerBlock);
        MaxSharedBytesPerBlockOptin = Attribute(handle, CudaDriver.DeviceAttribute.MaxSharedMemoryPerBlockOptin);
        CudaDriver.Check(CudaDriver.cuDeviceTotalMem_v2(out nuint total, handle), nameof(CudaDriver.cuDeviceTotalMem_v2));
        TotalMemory = (long)total;
        CudaDriver.Check(CudaDriver.cuDriverGetVersion(out int version), nameof(CudaDriver.cuDriverGetVersion));
        DriverVersion = new Version(version / 1000, version % 1000 / 10);
    }

    // An emulator follows the rules of its architecture: its compute capability (which kernel a launch picks), its
    // shared-memory opt-in limit, 1024 threads per block.
    private CudaDevice(Emulation.EmulatedDeviceDriver driver, int arch)
    {
        Driver = driver;
        IsEmulated = true;
        Name = string.Create(CultureInfo.InvariantCulture, $"KernelDsl emulator (CPU, sm_{arch} rules)");
        ComputeCapability = (arch / 10, arch % 10);
        MultiprocessorCount = Environment.ProcessorCount;
        MaxThreadsPerBlock = CudaFunction.MaxThreadsPerBlockLimit;
        MaxSharedBytesPerBlock = ArchitectureLimits.MaxStaticSharedBytesPerBlock;
        MaxSharedBytesPerBlockOptin = ArchitectureLimits.MaxSharedBytesPerBlock(arch);
        TotalMemory = GC.GetGCMemoryInfo().TotalAvailableMemoryBytes;
        DriverVersion = new Version(0, 0);
    }

    /// <summary>
    /// Whether a CUDA device can be used: <c>libcuda</c> loads, <c>cuInit</c> succeeds and at
    /// least one device is visible. Never throws; <see cref="UnavailableReason"/> says why not.
    /// </summary>
    public static bool IsAvailable => Unavailability.Value is null;

    /// <summary>Why <see cref="IsAvailable"/> is <see langword="false"/>, in words; <see langword="null"/> when a device is available.</summary>
    public static string? UnavailableReason => Unavailability.Value;

    /// <summary>
    /// The device of objects created without naming one: <see cref="Emulator"/> when the process default backend
    /// (<see cref="BackendSelector.Default"/>, e.g. <c>KERNELDSL_BACKEND=emulator</c>) is the emulator, else device 0,
    /// its primary context retained for the rest of the process.
    /// </summary>
    /// <exception cref="CudaUnavailableException">No CUDA device can be used; the message says why.</exception>
    /// <exception cref="CudaException">The device was found but its context could not be set up.</exception>
    public static CudaDevice Default => BackendSelector.Default == KernelBackend.Emulator ? Emulator : Gpu;

    /// <summary>
    /// The CPU emulator: kernels are compiled with the machine's C++ compiler and run with CUDA's execution model
    /// and checks (races, divergent barriers, out-of-bounds accesses, unfinished <c>cp.async</c> copies); device
    /// memory is host memory. See <see cref="Emulation.Emulator"/>.
    /// </summary>
    public static CudaDevice Emulator => EmulatedDevice.Value;

    /// <summary>
    /// The CPU emulator with an sm_80 GPU's compute capability and shared-memory limit: a GEMM that also has an sm_90a
    /// kernel (<see cref="GemmInfo.Sm90a"/>) runs its sm_80 kernel here, as on an A100, where <see cref="Emulator"/> runs
    /// the sm_90a one. Its own device: buffers and streams of <see cref="Emulator"/> do not mix with it.
    /// </summary>
    public static CudaDevice EmulatorSm80 => EmulatedSm80Device.Value;

    /// <summary>Whether this is an emulator (<see cref="Emulator"/>, <see cref="EmulatorSm80"/>) rather than a GPU.</summary>
    public bool IsEmulated { get; }

    /// <summary>Device 0, its primary context retained for the rest of the process.</summary>
    internal static CudaDevice Gpu
    {
        get
        {
            if (Volatile.Read(ref opened) is { } device)
            {
                return device;
            }

            lock (OpenGate)
            {
                // Not a Lazy: a failed open (e.g. out of memory for the context) must not be
                // remembered forever, the next call tries again.
                opened ??= Open(0);
                return opened;
            }
        }
    }

    /// <summary>The device ordinal, as in <c>cuDeviceGet</c>.</summary>
    public int Ordinal { get; }

    /// <summary>The marketing name, e.g. <c>NVIDIA H100 80GB HBM3</c>.</summary>
    public string Name { get; }

    /// <summary>The compute capability, e.g. (9, 0) for Hopper.</summary>
    public (int Major, int Minor) ComputeCapability { get; }

    /// <summary>The compute capability times ten without the dot, e.g. 90: the <c>sm_XX</c> to compile for.</summary>
    public int Arch => ComputeCapability.Major * 10 + ComputeCapability.Minor;

    /// <summary>Streaming multiprocessors.</summary>
    public int MultiprocessorCount { get; }

    /// <summary>Threads one block may have.</summary>
    public int MaxThreadsPerBlock { get; }

    /// <summary>Shared memory a block gets without opting in (48 KiB on every current device).</summary>
    public int MaxSharedBytesPerBlock { get; }

    /// <summary>Shared memory a block can get after raising the function's dynamic limit (227 KiB on Hopper).</summary>
    public int MaxSharedBytesPerBlockOptin { get; }

    /// <summary>Global memory in bytes.</summary>
    public long TotalMemory { get; }

    /// <summary>The CUDA version the installed driver supports, e.g. 13.0.</summary>
    public Version DriverVersion { get; }

    /// <summary>
    /// Binds a GPU's primary context to the calling thread, for code that calls the CUDA driver or a CUDA library
    /// (NCCL) directly; nothing to do on the emulator.
    /// </summary>
    internal void MakeCurrent() => (Driver as NativeDeviceDriver)?.MakeCurrent();

    /// <summary>What runs this device's work: the CUDA driver or the emulator.</summary>
    internal DeviceDriver Driver { get; }

    /// <summary>Waits until all work queued on the device has finished.</summary>
    /// <exception cref="CudaException">A kernel or copy failed (errors of asynchronous work surface here).</exception>
    public void Synchronize() => Driver.Synchronize();

    /// <summary>The device a call on <paramref name="backend"/> runs on: device 0 for <see cref="KernelBackend.Cuda"/>, <see cref="Emulator"/> for <see cref="KernelBackend.Emulator"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="backend"/> is neither (resolve Auto with <see cref="BackendSelector.Resolve(KernelBackend)"/> first).</exception>
    /// <exception cref="CudaUnavailableException">CUDA was asked for and no device can be used.</exception>
    public static CudaDevice For(KernelBackend backend) => backend switch
    {
        KernelBackend.Cuda => Gpu,
        KernelBackend.Emulator => Emulator,
        _ => throw new ArgumentOutOfRangeException(nameof(backend), backend, "Only the Cuda and Emulator backends run on a device."),
    };

    /// <summary>A one-line summary, e.g. for logs.</summary>
    public override string ToString() => IsEmulated ? Name : string.Create(
        CultureInfo.InvariantCulture,
        $"{Name} (sm_{Arch}, {MultiprocessorCount} SMs, {MaxSharedBytesPerBlockOptin / 1024} KiB shared per block opt-in, " +
        $"{TotalMemory >> 20} MiB, driver CUDA {DriverVersion})");

    private static CudaDevice OpenEmulator(int arch) => new(new Emulation.EmulatedDeviceDriver(), arch);

    private static CudaDevice Open(int ordinal)
    {
        if (Unavailability.Value is { } reason)
        {
            throw new CudaUnavailableException($"No CUDA device is available: {reason}.");
        }

        CudaDriver.Check(CudaDriver.cuDeviceGet(out int handle, ordinal), nameof(CudaDriver.cuDeviceGet));
        CudaDriver.Check(CudaDriver.cuDevicePrimaryCtxRetain(out IntPtr context, handle), nameof(CudaDriver.cuDevicePrimaryCtxRetain));
        try
        {
            // Retained for the life of the process: cached modules and user buffers live in
            // it, and the driver tears it down at exit.
            return new CudaDevice(ordinal, context, handle);
        }
        catch
        {
            // Unchecked: the query failure is the error worth reporting.
            CudaDriver.cuDevicePrimaryCtxRelease_v2(handle);
            throw;
        }
    }

    // The probe's contract is to answer, not to throw: whatever goes wrong (library missing,
    // an entry point absent from an old or stub driver) becomes the reason.
    private static string? Probe()
    {
        try
        {
            if (!CudaDriver.TryLoad())
            {
                return $"the NVIDIA driver library could not be loaded (tried {string.Join(", ", CudaDriver.Candidates)})";
            }

            CudaResult init = CudaDriver.cuInit(0);
            if (init != CudaResult.Success)
            {
                (string name, string description) = CudaDriver.Describe(init);
                return $"cuInit failed: {name} ({description})";
            }

            CudaResult count = CudaDriver.cuDeviceGetCount(out int devices);
            if (count != CudaResult.Success)
            {
                (string name, string description) = CudaDriver.Describe(count);
                return $"cuDeviceGetCount failed: {name} ({description})";
            }

            return devices == 0 ? "the CUDA driver sees no devices (check CUDA_VISIBLE_DEVICES)" : null;
        }
        catch (Exception e)
        {
            return $"the CUDA driver could not be used: {e.GetType().Name}: {e.Message}";
        }
    }

    private static unsafe string ReadName(int handle)
    {
        // The driver truncates to the buffer and NUL-terminates; 256 is cuda.h's own example size.
        byte* name = stackalloc byte[256];
        CudaDriver.Check(CudaDriver.cuDeviceGetName(name, 256, handle), nameof(CudaDriver.cuDeviceGetName));
        return Marshal.PtrToStringUTF8((IntPtr)name) ?? "";
    }

    private static int Attribute(int handle, CudaDriver.DeviceAttribute attribute)
    {
        CudaDriver.Check(CudaDriver.cuDeviceGetAttribute(out int value, attribute, handle), nameof(CudaDriver.cuDeviceGetAttribute));
        return value;
    }
}
