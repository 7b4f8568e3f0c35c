using System;
using System.Collections.Generic;
using System.Runtime.InteropServices;
using KernelDsl.Cuda;

namespace KernelDsl.Emulation;

/// <summary>
/// One entry point of a loaded kernel library: the exports <c>KD_EMU_ENTRY</c> (kerneldsl_emulation.h) gives it, and
/// the dynamic shared-memory limit a <see cref="CudaFunction"/> raises as on a GPU.
/// </summary>
internal sealed unsafe class EmulatedKernel
{
    private readonly ulong pointers;

    internal EmulatedKernel(IntPtr module, IntPtr library, string name)
    {
        Module = module;
        Name = name;
        Entry = NativeLibrary.GetExport(library, "kd_emu_entry_" + name);
        Shared = NativeLibrary.GetExport(library, "kd_emu_shared_" + name);
        pointers = ((delegate* unmanaged<ulong>)NativeLibrary.GetExport(library, "kd_emu_pointers_" + name))();
        int arity = ((delegate* unmanaged<int>)NativeLibrary.GetExport(library, "kd_emu_arity_" + name))();
        string names = Marshal.PtrToStringUTF8(((delegate* unmanaged<IntPtr>)NativeLibrary.GetExport(library, "kd_emu_parameters_" + name))()) ?? "";
        string[] split = names.Split(',', StringSplitOptions.RemoveEmptyEntries);
        var parameters = new string[arity];
        for (int i = 0; i < arity; i++)
        {
            parameters[i] = i < split.Length ? split[i] : $"parameter {i}";
        }

        Parameters = parameters;
    }

    /// <summary>The driver's module handle it came from.</summary>
    public IntPtr Module { get; }

    public string Name { get; }

    public IntPtr Entry { get; }

    public IntPtr Shared { get; }

    /// <summary>The parameters' names in signature order, for error messages.</summary>
    public IReadOnlyList<string> Parameters { get; }

    /// <summary>Without an opt-in, as on a GPU: 48 KiB.</summary>
    public int MaxDynamicSharedBytes { get; set; } = ArchitectureLimits.MaxStaticSharedBytesPerBlock;

    public bool IsPointer(int parameter) => (pointers >> parameter & 1) != 0;
}
