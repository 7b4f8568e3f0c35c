using System;
using System.Collections.Generic;
using System.Runtime.InteropServices;

namespace KernelDsl.Cuda;

/// <summary>
/// Raw NVRTC entry points (the C API of <c>nvrtc.h</c>) of one loaded library, bound as unmanaged
/// function pointers taken with <see cref="NativeLibrary.GetExport"/>. Every function returns a
/// <see cref="Status"/> code; <see cref="Check"/> turns failures into exceptions.
/// </summary>
/// <remarks>
/// Not <c>[LibraryImport]</c>: that binds one library per process, and a process may load several
/// NVRTCs side by side (the system's 11.8 and an unpacked 12.4, say; see <see cref="NvrtcLibrary"/>).
/// Strings cross as NUL-terminated UTF-8.
/// </remarks>
internal sealed unsafe class Nvrtc
{
    private readonly delegate* unmanaged<Status, byte*> getErrorString;
    private readonly delegate* unmanaged<int*, int*, Status> version;
    private readonly delegate* unmanaged<int*, Status> getNumSupportedArchs;
    private readonly delegate* unmanaged<int*, Status> getSupportedArchs;
    private readonly delegate* unmanaged<IntPtr*, byte*, byte*, int, byte**, byte**, Status> createProgram;
    private readonly delegate* unmanaged<IntPtr, int, byte**, Status> compileProgram;
    private readonly delegate* unmanaged<IntPtr*, Status> destroyProgram;
    private readonly delegate* unmanaged<IntPtr, nuint*, Status> getProgramLogSize;
    private readonly delegate* unmanaged<IntPtr, byte*, Status> getProgramLog;
    private readonly delegate* unmanaged<IntPtr, nuint*, Status> getPtxSize;
    private readonly delegate* unmanaged<IntPtr, byte*, Status> getPtx;
    private readonly delegate* unmanaged<IntPtr, nuint*, Status> getCubinSize;
    private readonly delegate* unmanaged<IntPtr, byte*, Status> getCubin;

    // Every export here exists from NVRTC 11.2 on, the oldest soname NvrtcLibrary.Default probes.
    private Nvrtc(NativeExports exports)
    {
        getErrorString = (delegate* unmanaged<Status, byte*>)exports.Export("nvrtcGetErrorString");
        version = (delegate* unmanaged<int*, int*, Status>)exports.Export("nvrtcVersion");
        getNumSupportedArchs = (delegate* unmanaged<int*, Status>)exports.Export("nvrtcGetNumSupportedArchs");
        getSupportedArchs = (delegate* unmanaged<int*, Status>)exports.Export("nvrtcGetSupportedArchs");
        createProgram = (delegate* unmanaged<IntPtr*, byte*, byte*, int, byte**, byte**, Status>)exports.Export("nvrtcCreateProgram");
        compileProgram = (delegate* unmanaged<IntPtr, int, byte**, Status>)exports.Export("nvrtcCompileProgram");
        destroyProgram = (delegate* unmanaged<IntPtr*, Status>)exports.Export("nvrtcDestroyProgram");
        getProgramLogSize = (delegate* unmanaged<IntPtr, nuint*, Status>)exports.Export("nvrtcGetProgramLogSize");
        getProgramLog = (delegate* unmanaged<IntPtr, byte*, Status>)exports.Export("nvrtcGetProgramLog");
        getPtxSize = (delegate* unmanaged<IntPtr, nuint*, Status>)exports.Export("nvrtcGetPTXSize");
        getPtx = (delegate* unmanaged<IntPtr, byte*, Status>)exports.Export("nvrtcGetPTX");
        getCubinSize = (delegate* unmanaged<IntPtr, nuint*, Status>)exports.Export("nvrtcGetCUBINSize");
        getCubin = (delegate* unmanaged<IntPtr, byte*, Status>)exports.Export("nvrtcGetCUBIN");
    }

    /// <summary><c>nvrtcResult</c>; only success is named, failures are described by <see cref="ErrorString"/>.</summary>
    internal enum Status
    {
        Success = 0,
    }

    /// <summary>Binds the loaded library <paramref name="library"/>; null, with what it lacks, when it is no NVRTC.</summary>
    internal static Nvrtc? TryBind(IntPtr library, out IReadOnlyList<string> missing)
    {
        NativeExports exports = NativeExports.Of(library);
        Nvrtc nvrtc = new(exports);
        missing = exports.Missing;
        return missing.Count == 0 ? nvrtc : null;
    }

    /// <summary>Throws <see cref="InvalidOperationException"/> when <paramref name="status"/> is not success.</summary>
    internal void Check(Status status, string function)
    {
        if (status != Status.Success)
        {
            throw new InvalidOperationException($"{function} failed: {ErrorString(status)} ({(int)status}).");
        }
    }

    /// <summary>NVRTC's own text for a status code.</summary>
    internal string ErrorString(Status status) =>
        // The returned pointer is a static string owned by NVRTC: copy it, never free it.
        Marshal.PtrToStringUTF8((IntPtr)getErrorString(status)) ?? status.ToString();

    /// <summary><c>nvrtcVersion</c>.</summary>
    internal Status Version(out int major, out int minor)
    {
        int a, b;
        Status status = version(&a, &b);
        (major, minor) = (a, b);
        return status;
    }

    /// <summary><c>nvrtcGetNumSupportedArchs</c> then <c>nvrtcGetSupportedArchs</c>.</summary>
    internal int[] SupportedArchs()
    {
        int count;
        Check(getNumSupportedArchs(&count), "nvrtcGetNumSupportedArchs");
        int[] archs = new int[count];
        fixed (int* p = archs)
        {
            Check(getSupportedArchs(p), "nvrtcGetSupportedArchs");
        }

        return archs;
    }

    /// <summary><c>nvrtcCreateProgram</c> with no headers: the generated CUDA C is self-contained.</summary>
    internal Status CreateProgram(out IntPtr program, string source, string name)
    {
        IntPtr sourceText = Marshal.StringToCoTaskMemUTF8(source);
        IntPtr nameText = Marshal.StringToCoTaskMemUTF8(name);
        try
        {
            IntPtr created;
            Status status = createProgram(&created, (byte*)sourceText, (byte*)nameText, 0, null, null);
            program = created;
            return status;
        }
        finally
        {
            Marshal.FreeCoTaskMem(sourceText);
            Marshal.FreeCoTaskMem(nameText);
        }
    }

    /// <summary><c>nvrtcCompileProgram</c>.</summary>
    internal Status CompileProgram(IntPtr program, IReadOnlyList<string> options)
    {
        IntPtr[] texts = new IntPtr[options.Count];
        try
        {
            for (int i = 0; i < texts.Length; i++)
            {
                texts[i] = Marshal.StringToCoTaskMemUTF8(options[i]);
            }

            fixed (IntPtr* p = texts)
            {
                return compileProgram(program, texts.Length, (byte**)p);
            }
        }
        finally
        {
            foreach (IntPtr text in texts)
            {
                Marshal.FreeCoTaskMem(text);
            }
        }
    }

    /// <summary><c>nvrtcDestroyProgram</c>.</summary>
    internal Status DestroyProgram(ref IntPtr program)
    {
        IntPtr handle = program;
        Status status = destroyProgram(&handle);
        program = handle;
        return status;
    }

    /// <summary>The compile log (<c>nvrtcGetProgramLogSize</c>, <c>nvrtcGetProgramLog</c>), NUL included.</summary>
    internal byte[] ProgramLog(IntPtr program) => Read(program, getProgramLogSize, getProgramLog, "nvrtcGetProgramLog");

    /// <summary>The PTX (<c>nvrtcGetPTXSize</c>, <c>nvrtcGetPTX</c>), NUL included.</summary>
    internal byte[] Ptx(IntPtr program) => Read(program, getPtxSize, getPtx, "nvrtcGetPTX");

    /// <summary>The CUBIN (<c>nvrtcGetCUBINSize</c>, <c>nvrtcGetCUBIN</c>).</summary>
    internal byte[] Cubin(IntPtr program) => Read(program, getCubinSize, getCubin, "nvrtcGetCUBIN");

    private byte[] Read(
        IntPtr program, delegate* unmanaged<IntPtr, nuint*, Status> size, delegate* unmanaged<IntPtr, byte*, Status> read, string function)
    {
        nuint length;
        Check(size(program, &length), function + "Size");
        byte[] bytes = new byte[length];
        fixed (byte* p = bytes)
        {
            Check(read(program, p), function);
        }

        return bytes;
    }
}
