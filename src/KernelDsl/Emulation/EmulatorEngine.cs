using System;
using System.Runtime.InteropServices;

namespace KernelDsl.Emulation;

/// <summary>The loaded engine library and its one entry point, <c>kd_emu_launch</c> (kerneldsl_emulator.cpp).</summary>
internal sealed unsafe class EmulatorEngine
{
    private const int ErrorCapacity = 2048;

    private readonly delegate* unmanaged<LaunchDescription*, EmulatorCounters*, byte*, int, int> launch;

    /// <summary>Loads the engine; kernel libraries link to the same file, so both share one copy of its state.</summary>
    internal EmulatorEngine(string path)
    {
        IntPtr library = NativeLibrary.Load(path);
        launch = (delegate* unmanaged<LaunchDescription*, EmulatorCounters*, byte*, int, int>)NativeLibrary.GetExport(library, "kd_emu_launch");
    }

    /// <summary>Runs one launch to completion on the calling thread; null on success, else the engine's error.</summary>
    internal string? Launch(in LaunchDescription description, out EmulatorCounters counters)
    {
        byte* error = stackalloc byte[ErrorCapacity];
        error[0] = 0;
        EmulatorCounters result;
        int status;
        fixed (LaunchDescription* launched = &description)
        {
            status = launch(launched, &result, error, ErrorCapacity);
        }

        counters = result;
        return status == 0 ? null : Marshal.PtrToStringUTF8((IntPtr)error);
    }

    /// <summary><c>kd_emu_buffer</c>: memory a launch may touch, with the name errors give it.</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct Buffer
    {
        public ulong Base;
        public ulong Bytes;
        public IntPtr Label;
    }

    /// <summary><c>kd_emu_launch_desc</c>.</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct LaunchDescription
    {
        public IntPtr Kernel;
        public IntPtr Entry;
        public IntPtr Shared;
        public IntPtr Arguments;
        public uint GridX, GridY, GridZ;
        public uint BlockX, BlockY, BlockZ;
        public uint SharedBytes;
        public ulong Seed;
        public Buffer* Buffers;
        public int BufferCount;
    }
}
