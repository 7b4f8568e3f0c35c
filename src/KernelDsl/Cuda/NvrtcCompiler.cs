using System;
using System.Collections.Generic;
using System.Text;

namespace KernelDsl.Cuda;

/// <summary>Compiles CUDA C source to PTX or CUBIN with NVRTC (no GPU needed).</summary>
public static class NvrtcCompiler
{
    /// <summary>The oldest NVRTC that compiles architecture-specific targets (<c>sm_90a</c>): CUDA 12.0.</summary>
    public static readonly Version ArchSpecificMinimum = new(12, 0);

    /// <summary>The version of <see cref="NvrtcLibrary.Default"/>, the NVRTC the runtime compiles with.</summary>
    /// <exception cref="NvrtcUnavailableException">No NVRTC library could be loaded.</exception>
    public static Version Version => NvrtcLibrary.Default.Version;

    /// <summary>The real architectures (compute capability times ten) <see cref="NvrtcLibrary.Default"/> compiles for, oldest first.</summary>
    /// <exception cref="NvrtcUnavailableException">No NVRTC library could be loaded.</exception>
    public static IReadOnlyList<int> SupportedArchitectures => NvrtcLibrary.Default.SupportedArchitectures;

    /// <summary>Compiles <paramref name="source"/> for <paramref name="target"/> with <see cref="NvrtcLibrary.Default"/>.</summary>
    /// <param name="source">Self-contained CUDA C (the program gets no headers).</param>
    /// <param name="programName">Name shown in NVRTC diagnostics, e.g. <c>proj_gemm.cu</c>.</param>
    /// <param name="target">Architecture and output kind.</param>
    /// <param name="extraOptions">NVRTC options appended after the defaults.</param>
    /// <returns>The image, the compile log and, for CUBIN, the parsed ptxas report.</returns>
    /// <exception cref="KernelCompilationException">NVRTC rejected the source or the options.</exception>
    /// <exception cref="NotSupportedException">The target is architecture-specific and the NVRTC older than <see cref="ArchSpecificMinimum"/>.</exception>
    /// <exception cref="NvrtcUnavailableException">No NVRTC library could be loaded.</exception>
    public static NvrtcResult Compile(
        string source, string programName, CudaTarget target, IReadOnlyList<string>? extraOptions = null) =>
        Compile(NvrtcLibrary.Default, source, programName, target, extraOptions);

    /// <summary>Compiles <paramref name="source"/> for <paramref name="target"/> with the NVRTC <paramref name="nvrtc"/>.</summary>
    /// <param name="nvrtc">The NVRTC to compile with, e.g. one from <see cref="NvrtcLibrary.Load"/>.</param>
    /// <param name="source">Self-contained CUDA C (the program gets no headers).</param>
    /// <param name="programName">Name shown in NVRTC diagnostics, e.g. <c>proj_gemm.cu</c>.</param>
    /// <param name="target">Architecture and output kind.</param>
    /// <param name="extraOptions">NVRTC options appended after the defaults.</param>
    /// <returns>The image, the compile log and, for CUBIN, the parsed ptxas report.</returns>
    /// <exception cref="KernelCompilationException">NVRTC rejected the source or the options.</exception>
    /// <exception cref="NotSupportedException">The target is architecture-specific and <paramref name="nvrtc"/> older than <see cref="ArchSpecificMinimum"/>.</exception>
    public static NvrtcResult Compile(
        NvrtcLibrary nvrtc, string source, string programName, CudaTarget target, IReadOnlyList<string>? extraOptions = null)
    {
        ArgumentNullException.ThrowIfNull(nvrtc);
        ArgumentNullException.ThrowIfNull(source);
        ArgumentException.ThrowIfNullOrEmpty(programName);
        if (CannotTarget(target, nvrtc.Version) is { } problem)
        {
            throw new NotSupportedException(
                $"{problem} This one is {nvrtc.Name}; load NVRTC 12 with NvrtcLibrary.Load, or compile for " +
                $"{(target with { ArchSpecific = false }).GpuArchitecture} without those instructions.");
        }

        Nvrtc api = nvrtc.Api;
        string[] optionArray = Options(target, extraOptions);

        api.Check(api.CreateProgram(out IntPtr program, source, programName), "nvrtcCreateProgram");
        try
        {
            Nvrtc.Status status = api.CompileProgram(program, optionArray);
            string log = Text(api.ProgramLog(program));
            if (status != Nvrtc.Status.Success)
            {
                throw new KernelCompilationException(programName, optionArray, log, api.ErrorString(status));
            }

            // The PTX size counts the C string's NUL; the driver's cuModuleLoadData wants it, but the
            // image is exposed as text, so callers append it when they load.
            return target.Output == CudaOutput.Ptx
                ? new NvrtcResult(WithoutNul(api.Ptx(program)), log, null, target, nvrtc.Version)
                : new NvrtcResult(api.Cubin(program), log, PtxasReport.Parse(log), target, nvrtc.Version);
        }
        finally
        {
            // Unchecked: a failed destroy must not hide the compile result or its exception.
            api.DestroyProgram(ref program);
        }
    }

    /// <summary>
    /// Why NVRTC <paramref name="version"/> cannot build <paramref name="target"/>, or null when it can: an
    /// architecture-specific target (<c>sm_90a</c>) needs <see cref="ArchSpecificMinimum"/>. NVRTC's own error for it
    /// ("invalid value for --gpu-architecture") does not say why.
    /// </summary>
    internal static string? CannotTarget(CudaTarget target, Version version) =>
        target.ArchSpecific && version < ArchSpecificMinimum
            ? $"NVRTC {version} cannot compile for {target.GpuArchitecture}: architecture-specific targets " +
              $"(wgmma, setmaxnreg, TMA) need NVRTC {ArchSpecificMinimum} or newer."
            : null;

    /// <summary>
    /// Every option <see cref="Compile(NvrtcLibrary, string, string, CudaTarget, IReadOnlyList{string})"/> gives NVRTC: the defaults for <paramref name="target"/>,
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

    private static string Text(byte[] log) => Encoding.UTF8.GetString(log).TrimEnd('\0');

    private static byte[] WithoutNul(byte[] ptx) => ptx.AsSpan(0, Math.Max(0, ptx.Length - 1)).ToArray();
}
