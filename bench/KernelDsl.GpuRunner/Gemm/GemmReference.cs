using System;
using System.Threading.Tasks;

namespace KernelDsl.GpuRunner;

/// <summary>
/// The float64 reference of a GEMM: C = act(op(A)·op(B) + bias) (α = 1, β = 0) from the rounded operands as the GPU
/// reads them, and the relative error ‖C − ref‖ / ‖ref‖ (NaN or ∞ anywhere makes it ∞).
/// </summary>
internal static class GemmReference
{
    /// <summary>op(A) as a dense m×k row-major double matrix.</summary>
    public static double[] OpA<T, TE>(T[] a, int lda, bool transposeA, int m, int k)
        where T : unmanaged
        where TE : IElement<T>
    {
        var result = new double[(long)m * k];
        Parallel.For(0, m, i =>
        {
            for (int p = 0; p < k; p++)
            {
                result[(long)i * k + p] = TE.ToDouble(transposeA ? a[(long)p * lda + i] : a[(long)i * lda + p]);
            }
        });
        return result;
    }

    /// <summary>op(B)ᵀ as a dense n×k row-major double matrix, so that every element of C is a dot product of two rows.</summary>
    public static double[] OpBTransposed<T, TE>(T[] b, int ldb, bool transposeB, int n, int k)
        where T : unmanaged
        where TE : IElement<T>
    {
        var result = new double[(long)n * k];
        Parallel.For(0, n, j =>
        {
            for (int p = 0; p < k; p++)
            {
                result[(long)j * k + p] = TE.ToDouble(transposeB ? b[(long)j * ldb + p] : b[(long)p * ldb + j]);
            }
        });
        return result;
    }

    /// <summary>The activation, in float64, with the formulas the CUDA epilogue implements (GELU: tanh form).</summary>
    public static double Activate(Activation activation, double x) => activation switch
    {
        Activation.Relu => Math.Max(x, 0),
        Activation.Silu => x / (1 + Math.Exp(-x)),
        Activation.Gelu => 0.5 * x * (1 + Math.Tanh(Math.Sqrt(2 / Math.PI) * (x + 0.044715 * x * x * x))),
        _ => x,
    };

    /// <summary>Compares every element of C (row stride <paramref name="ldc"/>) with the reference.</summary>
    /// <returns>The relative error and the number of NaN elements (poisoned, i.e. never written, or computed as NaN).</returns>
    public static (double Error, long NaNs) Compare<TOut, TOutE>(
        TOut[] c, int ldc, double[] opA, double[] opBt, double[]? bias, Activation activation, int m, int n, int k)
        where TOut : unmanaged
        where TOutE : IElement<TOut>
    {
        double diff = 0, norm = 0;
        long nans = 0;
        object gate = new();
        Parallel.For(0, m, i =>
        {
            double localDiff = 0, localNorm = 0;
            long localNaNs = 0;
            var row = opA.AsSpan((int)((long)i * k), k);
            for (int j = 0; j < n; j++)
            {
                var column = opBt.AsSpan((int)((long)j * k), k);
                double sum = 0;
                for (int p = 0; p < k; p++)
                {
                    sum += row[p] * column[p];
                }
                double expected = Activate(activation, sum + (bias is null ? 0 : bias[j]));
                TOut actual = c[(long)i * ldc + j];
                if (TOutE.IsNaN(actual))
                {
                    localNaNs++;
                }
                double d = TOutE.ToDouble(actual) - expected;
                localDiff += double.IsFinite(d) ? d * d : double.PositiveInfinity;
                localNorm += expected * expected;
            }
            lock (gate)
            {
                diff += localDiff;
                norm += localNorm;
                nans += localNaNs;
            }
        });
        return (norm > 0 ? Math.Sqrt(diff / norm) : Math.Sqrt(diff), nans);
    }

    /// <summary>
    /// The relative error over <paramref name="samples"/> random elements of a large product (a full float64
    /// reference of 8192³ would take minutes): catches wrong results of the timed launches, e.g. index overflow.
    /// </summary>
    public static (double Error, long NaNs) Spot<TIn, TInE, TOut, TOutE>(
        TIn[] a, int lda, bool transposeA, TIn[] b, int ldb, bool transposeB, TOut[] c, int ldc,
        TOut[]? bias, Activation activation, int m, int n, int k, int samples, int seed)
        where TIn : unmanaged
        where TInE : IElement<TIn>
        where TOut : unmanaged
        where TOutE : IElement<TOut>
    {
        var random = new Random(seed);
        var rows = new int[samples];
        var cols = new int[samples];
        for (int s = 0; s < samples; s++)
        {
            rows[s] = random.Next(m);
            cols[s] = random.Next(n);
        }
        var expected = new double[samples];
        Parallel.For(0, samples, s =>
        {
            int i = rows[s], j = cols[s];
            double sum = 0;
            for (int p = 0; p < k; p++)
            {
                double x = TInE.ToDouble(transposeA ? a[(long)p * lda + i] : a[(long)i * lda + p]);
                double y = TInE.ToDouble(transposeB ? b[(long)j * ldb + p] : b[(long)p * ldb + j]);
                sum += x * y;
            }
            expected[s] = Activate(activation, sum + (bias is null ? 0 : TOutE.ToDouble(bias[j])));
        });
        double diff = 0, norm = 0;
        long nans = 0;
        for (int s = 0; s < samples; s++)
        {
            TOut actual = c[(long)rows[s] * ldc + cols[s]];
            nans += TOutE.IsNaN(actual) ? 1 : 0;
            double d = TOutE.ToDouble(actual) - expected[s];
            diff += double.IsFinite(d) ? d * d : double.PositiveInfinity;
            norm += expected[s] * expected[s];
        }
        return (norm > 0 ? Math.Sqrt(diff / norm) : Math.Sqrt(diff), nans);
    }
}
