using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using System.Runtime.InteropServices;
using System.Text;
using System.Threading;
using KernelDsl.Cuda;

namespace KernelDsl.Emulation;

/// <summary>
/// The driver under <see cref="CudaDevice.Emulator"/>. Device memory is host memory between guard zones; a device
/// pointer is the host address. Work runs to completion when it is issued, which is one order a stream allows, so
/// streams and events need no queue: an event records the host clock. A launch hands cuLaunchKernel's arguments to
/// the engine with a table of every live allocation, each named after the kernel parameters that point into it.
/// </summary>
internal sealed unsafe class EmulatedDeviceDriver : DeviceDriver
{
    // "DKSDTM01" read as a little-endian word: KernelDsl tensor map, version 1 (the engine's TensorMapMagic).
    private const ulong TensorMapMagic = 0x31304d5444534b44;

    // cudaMalloc's alignment; the guard zones keep one allocation's overrun out of the next allocation.
    private const int Alignment = 256;
    private const int GuardBytes = 256;
    private const byte GuardPattern = 0xFD;

    private readonly ConcurrentDictionary<ulong, ulong> allocations = new();
    private readonly ConcurrentDictionary<IntPtr, long> events = new();
    private readonly ConcurrentDictionary<IntPtr, IntPtr> modules = new();
    private readonly ConcurrentDictionary<IntPtr, EmulatedKernel> functions = new();
    private long nextHandle;

    public override ulong Allocate(nuint bytes)
    {
        byte* block = (byte*)NativeMemory.AlignedAlloc(bytes + 2 * GuardBytes, Alignment);
        new Span<byte>(block, GuardBytes).Fill(GuardPattern);
        new Span<byte>(block + GuardBytes + bytes, GuardBytes).Fill(GuardPattern);
        ulong pointer = (ulong)(block + GuardBytes);
        allocations[pointer] = bytes;
        return pointer;
    }

    public override void Free(ulong pointer)
    {
        if (!allocations.TryRemove(pointer, out _))
        {
            throw Error(nameof(Free), CudaResult.InvalidValue);
        }

        NativeMemory.AlignedFree((byte*)pointer - GuardBytes);
    }

    public override void CopyToDevice(ulong destination, void* source, nuint bytes, IntPtr stream) =>
        System.Buffer.MemoryCopy(source, (void*)destination, bytes, bytes);

    public override void CopyToHost(void* destination, ulong source, nuint bytes, IntPtr stream) =>
        System.Buffer.MemoryCopy((void*)source, destination, bytes, bytes);

    public override void Fill(ulong destination, int elementBytes, uint value, nuint count)
    {
        switch (elementBytes)
        {
            case 1:
                new Span<byte>((void*)destination, checked((int)count)).Fill((byte)value);
                break;
            case 2:
                new Span<ushort>((void*)destination, checked((int)count)).Fill((ushort)value);
                break;
            default:
                new Span<uint>((void*)destination, checked((int)count)).Fill(value);
                break;
        }
    }

    public override void Synchronize()
    {
    }

    public override IntPtr CreateStream() => NewHandle();

    public override void SynchronizeStream(IntPtr stream)
    {
    }

    public override void DestroyStream(IntPtr stream)
    {
    }

    public override IntPtr CreateEvent()
    {
        IntPtr handle = NewHandle();
        events[handle] = 0;
        return handle;
    }

    public override void RecordEvent(IntPtr cudaEvent, IntPtr stream) => events[cudaEvent] = Stopwatch.GetTimestamp();

    public override void SynchronizeEvent(IntPtr cudaEvent)
    {
    }

    /// <summary>
    /// The emulator's own encoding, read by the engine's <c>kd_emu_tma_load_2d</c> (kerneldsl_emulator.cpp,
    /// <c>TensorMapView</c>): a magic word, the address, the sizes, the row stride in bytes, the box, then the element
    /// bytes with the swizzle span in bytes above them.
    /// </summary>
    public override TensorMap EncodeTensorMap(
        ulong address, Element element, ulong width, ulong height, ulong rowStrideBytes, uint boxWidth, uint boxHeight, TensorMapSwizzle swizzle)
    {
        TensorMap.Words bits = default;
        bits[0] = TensorMapMagic;
        bits[1] = address;
        bits[2] = width | height << 32;
        bits[3] = rowStrideBytes;
        bits[4] = boxWidth | (ulong)boxHeight << 32;
        bits[5] = (element == Element.F32 ? 4UL : 2UL) | (ulong)(uint)swizzle << 16;
        return new TensorMap(bits);
    }

    public override float ElapsedMilliseconds(IntPtr start, IntPtr end)
    {
        long from = events.GetValueOrDefault(start), to = events.GetValueOrDefault(end);
        if (from == 0 || to == 0)
        {
            throw Error("cuEventElapsedTime", CudaResult.InvalidHandle);
        }

        return (float)Stopwatch.GetElapsedTime(from, to).TotalMilliseconds;
    }

    public override void DestroyEvent(IntPtr cudaEvent) => events.TryRemove(cudaEvent, out _);

    /// <summary>
    /// The image is the UTF-8 path of a kernel library (<see cref="CudaModule.LoadEmulated"/>). Every load takes its
    /// own reference to the library and gets its own handle, so unloading one module leaves the others' functions be.
    /// </summary>
    public override IntPtr LoadModule(ReadOnlySpan<byte> image)
    {
        // The engine first: the kernel library links to it, and launches call into it.
        _ = EmulatorCompiler.Default.Engine;
        IntPtr handle = NewHandle();
        modules[handle] = NativeLibrary.Load(Encoding.UTF8.GetString(image));
        return handle;
    }

    public override void UnloadModule(IntPtr module)
    {
        foreach (var entry in functions.Where(entry => entry.Value.Module == module))
        {
            functions.TryRemove(entry.Key, out _);
        }

        if (modules.TryRemove(module, out IntPtr library))
        {
            NativeLibrary.Free(library);
        }
    }

    public override IntPtr GetFunction(IntPtr module, string name)
    {
        IntPtr library = modules.TryGetValue(module, out IntPtr loaded) ? loaded : throw Error("cuModuleGetFunction", CudaResult.InvalidHandle);
        if (!NativeLibrary.TryGetExport(library, "kd_emu_entry_" + name, out _))
        {
            throw Error("cuModuleGetFunction", CudaResult.NotFound);
        }

        IntPtr handle = NewHandle();
        functions[handle] = new EmulatedKernel(module, library, name);
        return handle;
    }

    public override int GetAttribute(IntPtr function, CudaDriver.FunctionAttribute attribute) => attribute switch
    {
        CudaDriver.FunctionAttribute.MaxThreadsPerBlock => CudaFunction.MaxThreadsPerBlockLimit,
        CudaDriver.FunctionAttribute.MaxDynamicSharedSizeBytes => Kernel(function).MaxDynamicSharedBytes,

        // Registers and local memory are the GPU compiler's to decide; generated kernels declare no static shared memory.
        _ => 0,
    };

    public override void SetAttribute(IntPtr function, CudaDriver.FunctionAttribute attribute, int value)
    {
        if (attribute == CudaDriver.FunctionAttribute.MaxDynamicSharedSizeBytes)
        {
            Kernel(function).MaxDynamicSharedBytes = value;
        }
    }

    public override void Launch(
        IntPtr function, (int X, int Y, int Z) grid, (int X, int Y, int Z) block, int sharedBytes, IntPtr stream, IntPtr* parameters)
    {
        EmulatedKernel kernel = Kernel(function);
        if (sharedBytes > kernel.MaxDynamicSharedBytes)
        {
            throw Error("cuLaunchKernel", CudaResult.InvalidValue);
        }

        KeyValuePair<ulong, ulong>[] live = allocations.ToArray();
        var labels = new string?[live.Length];
        for (int i = 0; i < kernel.Parameters.Count; i++)
        {
            if (kernel.IsPointer(i))
            {
                ulong address = *(ulong*)parameters[i];
                int owner = Array.FindIndex(live, a => address >= a.Key && address < a.Key + Math.Max(a.Value, 1));
                if (owner >= 0)
                {
                    labels[owner] = labels[owner] is null ? kernel.Parameters[i] : labels[owner] + "/" + kernel.Parameters[i];
                }
            }
        }

        var natives = new List<IntPtr>();
        IntPtr Native(string text)
        {
            IntPtr native = Marshal.StringToCoTaskMemUTF8(text);
            natives.Add(native);
            return native;
        }

        try
        {
            var buffers = new EmulatorEngine.Buffer[live.Length];
            for (int i = 0; i < live.Length; i++)
            {
                string label = labels[i] ?? $"an allocation of {live[i].Value} bytes no parameter points into";
                buffers[i] = new EmulatorEngine.Buffer { Base = live[i].Key, Bytes = live[i].Value, Label = Native(label) };
            }

            fixed (EmulatorEngine.Buffer* table = buffers)
            {
                var description = new EmulatorEngine.LaunchDescription
                {
                    Kernel = Native(kernel.Name), Entry = kernel.Entry, Shared = kernel.Shared, Arguments = (IntPtr)parameters,
                    GridX = (uint)grid.X, GridY = (uint)grid.Y, GridZ = (uint)grid.Z,
                    BlockX = (uint)block.X, BlockY = (uint)block.Y, BlockZ = (uint)block.Z,
                    SharedBytes = (uint)sharedBytes, Seed = Emulator.Seed, Buffers = table, BufferCount = buffers.Length,
                };
                long start = Stopwatch.GetTimestamp();
                string? fault = EmulatorCompiler.Default.Engine.Launch(description, out EmulatorCounters counters);
                Emulator.Report(EmulatorReport.From(kernel.Name, grid, block, sharedBytes, Stopwatch.GetElapsedTime(start), counters));
                if (fault is not null)
                {
                    throw new EmulatorFaultException(kernel.Name, $"{fault} (emulator seed {Emulator.Seed})");
                }
            }
        }
        finally
        {
            natives.ForEach(Marshal.FreeCoTaskMem);
        }
    }

    private static CudaException Error(string call, CudaResult result)
    {
        (string name, string description) = CudaDriver.DescribeWithoutDriver(result);
        return new CudaException(call, (int)result, name, description);
    }

    private IntPtr NewHandle() => (IntPtr)Interlocked.Increment(ref nextHandle);

    private EmulatedKernel Kernel(IntPtr function) =>
        functions.TryGetValue(function, out EmulatedKernel? kernel) ? kernel : throw Error("cuLaunchKernel", CudaResult.InvalidHandle);
}
