using System;
using System.Collections.Generic;
using System.Text;

namespace KernelDsl.Cuda;

/// <summary>Compiles CUDA C source to PTX or CUBIN with NVRTC (no GPU needed).</summary>
public static class NvrtcCompiler
{
    /// <summary>The NVRTC version that is loaded.</summary>
    /// <exception cref="NvrtcUnavailableException">No NVRTC library could be loaded.</exception>
    public static Version Version
    {
        get
        {
            Nvrtc.EnsureLoaded();
            Nvrtc.Check(Nvrtc.nvrtcVersion(out int major, out int minor), nameof(Nvrtc.nvrtcVersion));
            return new Version(major, minor);
        }
    }

    /// <summary>The real architectures (compute capability times ten) the loaded NVRTC compiles for, oldest first.</summary>
    /// <exception cref="NvrtcUnavailableException">No NVRTC library could be loaded.</exception>
    public static IReadOnlyList<int> SupportedArchitectures
    {
        get
        {
            Nvrtc.EnsureLoaded();
            Nvrtc.Check(Nvrtc.nvrtcGetNumSupportedArchs(out int count), nameof(Nvrtc.nvrtcGetNumSupportedArchs));
            int[] archs = new int[count];
            Nvrtc.Check(Nvrtc.nvrtcGetSupportedArchs(archs), nameof(Nvrtc.nvrtcGetSupportedArchs));
            return archs;
        }
    }

    /// <summary>Compiles <paramref name="source"/> for <paramref name="target"/>.</summary>
    /// <param name="source">Self-contained CUDA C (the program gets no headers).</param>
    /// <param name="programName">Name shown in NVRTC diagnostics, e.g. <c>proj_gemm.cu</c>.</param>
    /// <param name="target">Architecture and output kind.</param>
    /// <param name="extraOptions">NVRTC options appended after the defaults.</param>
    /// <returns>The image, the compile log and, for CUBIN, the parsed ptxas report.</returns>
    /// <exception cref="KernelCompilationException">NVRTC rejected the source or the options.</exception>
    /// <exception cref="NvrtcUnavailableException">No NVRTC library could be loaded.</exception>
    public static NvrtcResult Compile(
        string source, string programName, CudaTarget target, IReadOnlyList<string>? extraOptions = null)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentException.ThrowIfNullOrEmpty(programName);
        Version version = Version;
        string[] optionArray = Options(target, extraOptions);

        Nvrtc.Check(
            Nvrtc.nvrtcCreateProgram(out IntPtr program, source, programName, 0, IntPtr.Zero, IntPtr.Zero),
            nameof(Nvrtc.nvrtcCreateProgram));
        try
        {
            Nvrtc.Status status = Nvrtc.nvrtcCompileProgram(program, optionArray.Length, optionArray);
            string log = ReadLog(program);
            if (status != Nvrtc.Status.Success)
            {
                throw new KernelCompilationException(programName, optionArray, log, Nvrtc.ErrorString(status));
            }

            return target.Output == CudaOutput.Ptx
                ? new NvrtcResult(ReadPtx(program), log, null, target, version)
                : new NvrtcResult(ReadCubin(program), log, PtxasReport.Parse(log), target, version);
        }
        finally
        {
            // Unchecked: a failed destroy must not hide the compile result or its exception.
            Nvrtc.nvrtcDestroyProgram(ref program);
        }
    }

    /// <summary>
    /// Every option <see cref="Compile"/> gives NVRTC: the defaults for <paramref name="target"/>,
    /// then <paramref name="extraOptions"/>. The kernel cache keys on this list, so a change of
    /// defaults here invalidates cached images by itself.
    /// </summary>
    internal static string[] Options(CudaTarget target, IReadOnlyList<string>? extraOptions)
    {
        // C++17 for constexpr-if and friends in generated code; ptxas -v only applies to CUBIN
        // and is what makes register, spill and shared-memory figures visible without a GPU.
        List<string> options = ["--gpu-architecture=" + target.GpuArchitecture, "--std=c++17"];
        if (target.Output == CudaOutput.Cubin)
        {
            options.Add("--ptxas-options=-v");
        }

        if (extraOptions is not null)
        {
            options.AddRange(extraOptions);
        }

        return options.ToArray();
    }

    private static string ReadLog(IntPtr program)
    {
        Nvrtc.Check(Nvrtc.nvrtcGetProgramLogSize(program, out nuint size), nameof(Nvrtc.nvrtcGetProgramLogSize));
        byte[] log = new byte[size];
        Nvrtc.Check(Nvrtc.nvrtcGetProgramLog(program, log), nameof(Nvrtc.nvrtcGetProgramLog));
        return Encoding.UTF8.GetString(log).TrimEnd('\0');
    }

    private static byte[] ReadPtx(IntPtr program)
    {
        Nvrtc.Check(Nvrtc.nvrtcGetPTXSize(program, out nuint size), nameof(Nvrtc.nvrtcGetPTXSize));
        byte[] ptx = new byte[size];
        Nvrtc.Check(Nvrtc.nvrtcGetPTX(program, ptx), nameof(Nvrtc.nvrtcGetPTX));
        // The size counts the C string's NUL; the driver's cuModuleLoadData wants it, but the
        // image is exposed as text, so callers append it when they load.
        return ptx.AsSpan(0, Math.Max(0, ptx.Length - 1)).ToArray();
    }

    private static byte[] ReadCubin(IntPtr program)
    {
        Nvrtc.Check(Nvrtc.nvrtcGetCUBINSize(program, out nuint size), nameof(Nvrtc.nvrtcGetCUBINSize));
        byte[] cubin = new byte[size];
        Nvrtc.Check(Nvrtc.nvrtcGetCUBIN(program, cubin), nameof(Nvrtc.nvrtcGetCUBIN));
        return cubin;
    }
}
