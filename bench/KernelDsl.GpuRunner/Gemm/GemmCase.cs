using System;
using System.Collections.Generic;
using System.Globalization;
using KernelDsl.Cuda;

namespace KernelDsl.GpuRunner;

/// <summary>What a GEMM case can do; the generic subclass knows the element types.</summary>
internal abstract class GemmCase : KernelCase
{
    public override string Kind => "gemm";

    public abstract GemmInfo Info { get; }

    public override string Name => Info.Name[(Info.Name.LastIndexOf('.') + 1)..];

    public override IReadOnlyList<(string Entry, int DynamicSharedBytes)> Entries => [(Info.EntryPoint, Info.SharedMemoryBytes)];

    public override string Description => Info.ToString();

    /// <summary>The GEMM's sm_90a kernel as a case of its own (compile-only), or null when it has none.</summary>
    public abstract KernelCase? Sm90a { get; }

    public abstract string InputName { get; }

    public abstract string OutputName { get; }

    /// <summary>Output tolerance: 1e-5 for fp32, 1e-3 fp16, 1e-2 bf16 (DESIGN.md, METHOD.md).</summary>
    public abstract double Tolerance { get; }

    /// <summary>The 16-bit tensor-core path (mma.sync) rather than fp32 SIMT.</summary>
    public bool TensorCore => Info.Element != Element.F32;

    /// <summary>The layout in cuBLAS's naming: "TN" for C = A·Bᵀ, "NN" for C = A·B; see <see cref="LayoutName"/>.</summary>
    public string Layout => LayoutName(Info.TransposeA, Info.TransposeB);

    /// <summary>The key of the cuBLAS peer: same types and layout (epilogues are not part of it).</summary>
    public string PeerKey => $"{InputName}>{OutputName} {Layout}";

    /// <summary>
    /// The op letters of the column-major cuBLAS call that computes the row-major product (see <see cref="Cublas"/>):
    /// the first for our B, the second for our A. C = A·Bᵀ with B stored N×K (a Linear layer's weight) is
    /// gemm(T, N, …): the "TN" GEMM that cuBLAS and PyTorch users run; C = A·B is "NN"; C = Aᵀ·B is "NT".
    /// </summary>
    public static string LayoutName(bool transposeA, bool transposeB) => (transposeB ? "T" : "N") + (transposeA ? "T" : "N");

    /// <summary>Leading dimension of a stored row of <paramref name="columns"/> elements: padded to 8 on the tensor-core path (16-byte rows).</summary>
    public int LeadingDimension(int columns) => TensorCore ? HostData.RoundUp(Math.Max(columns, 1), 8) : Math.Max(columns, 1);

    public abstract GemmCheck Check(CudaStream stream, int m, int n, int k, int seed);

    public abstract PeerCheck CheckPeer(CudaStream stream, Cublas cublas, IntPtr cublasStream, DriverEvents driver, int m, int n, int k, int seed);

    /// <summary>Times our kernel at m = n = k = <paramref name="size"/>; and the cuBLAS peer if <paramref name="cublas"/> is given.</summary>
    public abstract GemmTiming Time(
        CudaStream stream, OperandPool pool, int size, int samples, int seed, Cublas? cublas, IntPtr cublasStream, DriverEvents? driver);

    protected static string Describe(Exception e) => $"{e.GetType().Name}: {e.Message}";

    protected static double Tflops(int size, TimingResult timing) => 2.0 * size * size * (double)size / (timing.MedianMs * 1e-3) / 1e12;

    protected static string Shape(int m, int n, int k) => string.Create(CultureInfo.InvariantCulture, $"{m}×{n}×{k}");
}
