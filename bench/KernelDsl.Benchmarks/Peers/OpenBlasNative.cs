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

    /// <summary><c>CblasTrans</c>.</summary>
    public const int Trans = 112;

    /// <summary>C ← α·op(A)·op(B) + β·C.</summary>
    [LibraryImport(Library, EntryPoint = "cblas_sgemm")]
    public static partial void Sgemm(int order, int transA, int transB, int m, int n, int k,
        float alpha, float* a, int lda, float* b, int ldb, float beta, float* c, int ldc);

    /// <summary>The build description, e.g. "OpenBLAS 0.3.21 DYNAMIC_ARCH NO_AFFINITY Zen MAX_THREADS=64".</summary>
    [LibraryImport(Library, EntryPoint = "openblas_get_config")]
    public static partial byte* GetConfig();

    /// <summary>The kernel family OpenBLAS chose for this CPU at load, e.g. "Zen", "SkylakeX" or the generic "Prescott".</summary>
    [LibraryImport(Library, EntryPoint = "openblas_get_corename")]
    public static partial byte* GetCoreName();

    /// <summary>C = A·B for <paramref name="shape"/>, row-major, no transposes: what the GEMM suites' peers time.</summary>
    public static void Multiply(GemmShape shape, float[] a, float[] b, float[] c)
    {
        fixed (float* aAddress = a, bAddress = b, cAddress = c)
        {
            Sgemm(RowMajor, NoTrans, NoTrans, shape.M, shape.N, shape.K, 1f, aAddress, shape.K, bAddress, shape.N, 0f, cAddress, shape.N);
        }
    }

    /// <summary>Sets the number of threads OpenBLAS uses.</summary>
    [LibraryImport(Library, EntryPoint = "openblas_set_num_threads")]
    public static partial void SetNumThreads(int threads);
}
