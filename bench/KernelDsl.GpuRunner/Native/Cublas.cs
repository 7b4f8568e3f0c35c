using System;
using System.Collections.Generic;
using System.Globalization;
using System.Runtime.InteropServices;

namespace KernelDsl.GpuRunner;

/// <summary>
/// cuBLAS through <c>cublasGemmEx</c>, bound by function pointer from <c>libcublas.so.13</c> (or .12, or the path in
/// <c>KERNELDSL_CUBLAS</c>): the peer our GEMMs are timed against, in the same process, on the same device buffers.
/// </summary>
/// <remarks>
/// cuBLAS is column-major; our matrices are row-major. A row-major R×C matrix with row stride ld is, read
/// column-major, its C×R transpose with leading dimension ld. So the row-major product C = op(A)·op(B) (m×n) is
/// computed as the column-major Cᵀ = op(B)ᵀ·op(A)ᵀ (n×m, ldc): cuBLAS's first operand is our B, its second our A.
/// Our B stored K×N (TransposeB = false) reads column-major as op(B)ᵀ already (CUBLAS_OP_N, ld = ldb); stored N×K
/// (TransposeB = true, the "TN" case) it reads as op(B) and needs CUBLAS_OP_T. Likewise for A. For C = A·Bᵀ that is
/// cublasGemmEx(T, N, n, m, k, B, ldb = k, A, lda = k, C, ldc = n). The time command checks this mapping on a small
/// product against the float64 reference and our own kernel before it times anything.
/// </remarks>
internal sealed unsafe class Cublas : IDisposable
{
    /// <summary>CUBLAS_COMPUTE_32F: fp32 accumulation (no TF32 for fp32 inputs under the default math mode).</summary>
    private const int ComputeType32F = 68;

    /// <summary>CUBLAS_GEMM_DEFAULT: cuBLAS's heuristic picks the algorithm.</summary>
    private const int GemmDefault = -1;

    private const int OpN = 0, OpT = 1;

    private readonly delegate* unmanaged<IntPtr, int> destroy;
    private readonly delegate* unmanaged<IntPtr, IntPtr, int> setStream;
    private readonly delegate* unmanaged<IntPtr, int, int, int, int, int, float*, ulong, int, int, ulong, int, int, float*, ulong, int, int, int, int, int> gemmEx;
    private readonly delegate* unmanaged<int, IntPtr> statusString;
    private readonly IntPtr handle;
    private bool disposed;

    private Cublas(NativeLibraries library)
    {
        Library = library.Path;
        var create = (delegate* unmanaged<IntPtr*, int>)library.Export("cublasCreate_v2");
        destroy = (delegate* unmanaged<IntPtr, int>)library.Export("cublasDestroy_v2");
        setStream = (delegate* unmanaged<IntPtr, IntPtr, int>)library.Export("cublasSetStream_v2");
        gemmEx = (delegate* unmanaged<IntPtr, int, int, int, int, int, float*, ulong, int, int, ulong, int, int, float*, ulong, int, int, int, int, int>)
            library.Export("cublasGemmEx");
        statusString = NativeLibrary.TryGetExport(library.Handle, "cublasGetStatusString", out IntPtr text)
            ? (delegate* unmanaged<int, IntPtr>)text : null;
        var getVersion = (delegate* unmanaged<IntPtr, int*, int>)library.Export("cublasGetVersion_v2");

        IntPtr created;
        Check(create(&created), "cublasCreate_v2");
        handle = created;
        int version;
        Check(getVersion(handle, &version), "cublasGetVersion_v2");
        // cuBLAS encodes major·10000 + minor·100 + patch from 11.0 on (e.g. 130001 for 13.0.1).
        Version = string.Create(CultureInfo.InvariantCulture, $"{version / 10000}.{version / 100 % 100}.{version % 100}");
    }

    /// <summary>The library that loaded.</summary>
    public string Library { get; }

    /// <summary>cuBLAS's version, e.g. 13.0.2.</summary>
    public string Version { get; }

    /// <summary>The sonames and paths tried, in order.</summary>
    public static IReadOnlyList<string> Candidates()
    {
        var list = new List<string>();
        string? explicitPath = Environment.GetEnvironmentVariable("KERNELDSL_CUBLAS");
        if (!string.IsNullOrWhiteSpace(explicitPath))
        {
            list.Add(explicitPath);
        }
        list.AddRange(["libcublas.so.13", "libcublas.so.12", "libcublas.so"]);
        return list;
    }

    /// <summary>Loads cuBLAS and creates a handle, or returns null and says why.</summary>
    public static Cublas? TryCreate(out string? reason)
    {
        var library = NativeLibraries.TryOpen(Candidates(), out string tried);
        if (library is null)
        {
            reason = $"no cuBLAS library loaded (tried {tried}; set KERNELDSL_CUBLAS or LD_LIBRARY_PATH)";
            return null;
        }
        try
        {
            reason = null;
            return new Cublas(library);
        }
        catch (Exception e) when (e is InvalidOperationException or EntryPointNotFoundException)
        {
            reason = $"{library.Path}: {e.Message}";
            return null;
        }
    }

    /// <summary>Queues the following GEMMs on <paramref name="stream"/> (a raw <c>CUstream</c>, which is a <c>cudaStream_t</c>).</summary>
    public void SetStream(IntPtr stream) => Check(setStream(handle, stream), "cublasSetStream_v2");

    /// <summary>
    /// Row-major C (m×n, row stride ldc) ← α·op(A)·op(B) + β·C with A stored M×K (K×M if <paramref name="transposeA"/>)
    /// and B stored K×N (N×K if <paramref name="transposeB"/>), as KernelDsl's GEMMs define it; see the class remarks.
    /// </summary>
    public void RowMajorGemm(
        bool transposeA, bool transposeB, int m, int n, int k,
        ulong a, int aType, int lda, ulong b, int bType, int ldb, ulong c, int cType, int ldc, float alpha = 1f, float beta = 0f)
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        Check(
            gemmEx(handle, transposeB ? OpT : OpN, transposeA ? OpT : OpN, n, m, k,
                &alpha, b, bType, ldb, a, aType, lda, &beta, c, cType, ldc, ComputeType32F, GemmDefault),
            "cublasGemmEx");
    }

    public void Dispose()
    {
        if (!disposed)
        {
            disposed = true;
            destroy(handle);
        }
    }

    private void Check(int status, string call)
    {
        if (status != 0)
        {
            string text = statusString is null ? "" : " " + (Marshal.PtrToStringUTF8(statusString(status)) ?? "");
            throw new InvalidOperationException(string.Create(CultureInfo.InvariantCulture, $"{call} failed: cublasStatus_t {status}{text}."));
        }
    }
}
