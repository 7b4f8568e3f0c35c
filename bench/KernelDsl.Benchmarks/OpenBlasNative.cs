using System.Runtime.InteropServices;

namespace KernelDsl.Benchmarks;

/// <summary>The few CBLAS entry points of OpenBLAS (Debian: <c>libopenblas0-pthread</c>) the peer benchmarks call.</summary>
internal static unsafe partial class OpenBlasNative
{
    private const string Library = "libopenblas.so.0";

    /// <summary><c>CblasRowMajor</c>.</summary>
    public const int RowMajor = 101;

    /// <summary><c>CblasNoTrans</c>.</summary>
    public const int NoTrans = 111;

    /// <summary>C ← α·op(A)·op(B) + β·C.</summary>
    [LibraryImport(Library, EntryPoint = "cblas_sgemm")]
    public static partial void Sgemm(int order, int transA, int transB, int m, int n, int k,
        float alpha, float* a, int lda, float* b, int ldb, float beta, float* c, int ldc);

    /// <summary>Sets the number of threads OpenBLAS uses.</summary>
    [LibraryImport(Library, EntryPoint = "openblas_set_num_threads")]
    public static partial void SetNumThreads(int threads);
}
