using System;

namespace KernelDsl.Cuda;

/// <summary>The outcome of a successful <see cref="NvrtcCompiler.Compile(NvrtcLibrary, string, string, CudaTarget, System.Collections.Generic.IReadOnlyList{string})"/>.</summary>
/// <param name="Image">PTX text as UTF-8 bytes without the trailing NUL, or the CUBIN.</param>
/// <param name="Log">NVRTC's log: warnings and, for CUBIN, the ptxas <c>-v</c> report.</param>
/// <param name="Ptxas">Per-entry resource usage; <see langword="null"/> for PTX (ptxas does not run).</param>
/// <param name="Target">What was compiled for.</param>
/// <param name="NvrtcVersion">The NVRTC that compiled it.</param>
public sealed record NvrtcResult(byte[] Image, string Log, PtxasReport? Ptxas, CudaTarget Target, Version NvrtcVersion);
