using System;
using System.Globalization;
using KernelDsl.Cuda;

namespace KernelDsl.GpuRunner;

/// <summary>The generated GEMM <typeparamref name="TKernel"/>, of <typeparamref name="TIn"/> operands and <typeparamref name="TOut"/> output.</summary>
internal sealed class GemmCase<TKernel, TIn, TInE, TOut, TOutE> : GemmCase
    where TKernel : IGemmKernel<TIn, TOut>
    where TIn : unmanaged
    where TInE : IElement<TIn>
    where TOut : unmanaged
    where TOutE : IElement<TOut>
{
    /// <summary>NaN elements after each operand: a read past the end poisons the output.</summary>
    private const int Tail = 64;

    private static readonly GemmInfo info = TKernel.Info;

    public override GemmInfo Info => info;

    public override string Source => TKernel.CudaSource;

    public override KernelCase? Sm90a => info.Sm90a is { } plan && TKernel.CudaSourceSm90a is { } source ? new Sm90aGemmCase(Name, source, plan) : null;

    public override string InputName => TInE.Name;

    public override string OutputName => TOutE.Name;

    public override double Tolerance => TOutE.Tolerance;

    public override GemmCheck Check(CudaStream stream, int m, int n, int k, int seed)
    {
        var (aRows, aCols) = info.TransposeA ? (k, m) : (m, k);
        var (bRows, bCols) = info.TransposeB ? (n, k) : (k, n);
        int lda = LeadingDimension(aCols), ldb = LeadingDimension(bCols), ldc = Math.Max(n, 1);
        try
        {
            TIn[] a = HostData.Matrix<TIn, TInE>(aRows, aCols, lda, Tail, seed);
            TIn[] b = HostData.Matrix<TIn, TInE>(bRows, bCols, ldb, Tail, seed + 1);
            TOut[] bias = info.Bias ? HostData.Vector<TOut, TOutE>(n, seed + 2) : [];
            var c = new TOut[(long)m * ldc];

            using var deviceA = Upload(a);
            using var deviceB = Upload(b);
            using var deviceBias = Upload(bias);
            using var deviceC = new DeviceBuffer<TOut>(c.Length);
            deviceC.Fill(TOutE.NaN);
            Launch(stream, deviceA, lda, deviceB, ldb, deviceC, ldc, m, n, k, deviceBias);
            stream.Synchronize();
            deviceC.CopyTo(c);

            double[] opA = GemmReference.OpA<TIn, TInE>(a, lda, info.TransposeA, m, k);
            double[] opBt = GemmReference.OpBTransposed<TIn, TInE>(b, ldb, info.TransposeB, n, k);
            double[]? biasValues = info.Bias ? Array.ConvertAll(bias, TOutE.ToDouble) : null;
            var (error, nans) = GemmReference.Compare<TOut, TOutE>(c, ldc, opA, opBt, biasValues, info.Activation, m, n, k);
            return new GemmCheck(Name, m, n, k, lda, ldb, seed, error, Tolerance, nans, null);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            return new GemmCheck(Name, m, n, k, lda, ldb, seed, double.NaN, Tolerance, 0, Describe(e));
        }
    }

    public override PeerCheck CheckPeer(CudaStream stream, Cublas cublas, IntPtr cublasStream, DriverEvents driver, int m, int n, int k, int seed)
    {
        var (aRows, aCols) = info.TransposeA ? (k, m) : (m, k);
        var (bRows, bCols) = info.TransposeB ? (n, k) : (k, n);
        int lda = LeadingDimension(aCols), ldb = LeadingDimension(bCols), ldc = n;
        try
        {
            TIn[] a = HostData.Matrix<TIn, TInE>(aRows, aCols, lda, 0, seed);
            TIn[] b = HostData.Matrix<TIn, TInE>(bRows, bCols, ldb, 0, seed + 1);
            TOut[] bias = info.Bias ? HostData.Vector<TOut, TOutE>(n, seed + 2) : [];
            var ours = new TOut[m * ldc];
            var theirs = new TOut[m * ldc];
            using var deviceA = Upload(a);
            using var deviceB = Upload(b);
            using var deviceBias = Upload(bias);
            using var deviceOurs = new DeviceBuffer<TOut>(ours.Length);
            using var deviceTheirs = new DeviceBuffer<TOut>(theirs.Length);
            deviceOurs.Fill(TOutE.NaN);
            deviceTheirs.Fill(TOutE.NaN);

            Launch(stream, deviceA, lda, deviceB, ldb, deviceOurs, ldc, m, n, k, deviceBias);
            stream.Synchronize();
            deviceOurs.CopyTo(ours);
            cublas.SetStream(cublasStream);
            cublas.RowMajorGemm(info.TransposeA, info.TransposeB, m, n, k,
                deviceA.Pointer, TInE.CudaDataType, lda, deviceB.Pointer, TInE.CudaDataType, ldb, deviceTheirs.Pointer, TOutE.CudaDataType, ldc);
            driver.SynchronizeStream(cublasStream);
            deviceTheirs.CopyTo(theirs);

            double[] opA = GemmReference.OpA<TIn, TInE>(a, lda, info.TransposeA, m, k);
            double[] opBt = GemmReference.OpBTransposed<TIn, TInE>(b, ldb, info.TransposeB, n, k);
            double[]? biasValues = info.Bias ? Array.ConvertAll(bias, TOutE.ToDouble) : null;
            var (oursError, oursNaNs) = GemmReference.Compare<TOut, TOutE>(ours, ldc, opA, opBt, biasValues, info.Activation, m, n, k);
            // cuBLAS computes the plain product: its reference has no epilogue.
            var (cublasError, cublasNaNs) = GemmReference.Compare<TOut, TOutE>(theirs, ldc, opA, opBt, null, Activation.None, m, n, k);
            string? failure = oursNaNs + cublasNaNs > 0
                ? string.Create(CultureInfo.InvariantCulture, $"NaN elements: ours {oursNaNs}, cuBLAS {cublasNaNs}")
                : null;
            return new PeerCheck(Name, Layout, m, n, k, seed, cublasError, oursError, Tolerance, failure);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            return new PeerCheck(Name, Layout, m, n, k, seed, double.NaN, double.NaN, Tolerance, Describe(e));
        }
    }

    public override GemmTiming Time(
        CudaStream stream, OperandPool pool, int size, int samples, int seed, Cublas? cublas, IntPtr cublasStream, DriverEvents? driver)
    {
        int s = size;
        var a = pool.Operand<TIn, TInE>("A", s, seed);
        var b = pool.Operand<TIn, TInE>("B", s, seed + 1);
        var bias = info.Bias ? pool.Operand<TOut, TOutE>("bias", 1, seed + 2) : default;
        var c = pool.Output<TOut>();
        using var emptyBias = new DeviceBuffer<TOut>(0);
        DeviceBuffer<TOut> biasBuffer = info.Bias ? bias.Device : emptyBias;
        try
        {
            c.Device.Fill(TOutE.NaN);
            using var timer = new StreamTimer(stream);
            TimingResult ours = Timing.Measure(
                () => Launch(stream, a.Device, s, b.Device, s, c.Device, s, s, s, s, biasBuffer), timer, samples);
            stream.Synchronize();
            c.Device.CopyTo(c.Host);
            double oursSpot = GemmReference.Spot<TIn, TInE, TOut, TOutE>(
                a.Host, s, info.TransposeA, b.Host, s, info.TransposeB, c.Host, s, info.Bias ? bias.Host : null, info.Activation,
                s, s, s, 256, seed + 3).Error;

            TimingResult? peer = null;
            double? peerSpot = null;
            if (cublas is not null && driver is not null)
            {
                c.Device.Fill(TOutE.NaN);
                cublas.SetStream(cublasStream);
                using var peerTimer = new RawStreamTimer(driver, cublasStream);
                peer = Timing.Measure(
                    () => cublas.RowMajorGemm(info.TransposeA, info.TransposeB, s, s, s,
                        a.Device.Pointer, TInE.CudaDataType, s, b.Device.Pointer, TInE.CudaDataType, s, c.Device.Pointer, TOutE.CudaDataType, s),
                    peerTimer, samples);
                driver.SynchronizeStream(cublasStream);
                c.Device.CopyTo(c.Host);
                peerSpot = GemmReference.Spot<TIn, TInE, TOut, TOutE>(
                    a.Host, s, info.TransposeA, b.Host, s, info.TransposeB, c.Host, s, null, Activation.None, s, s, s, 256, seed + 3).Error;
            }
            return new GemmTiming(Name, InputName, OutputName, Layout, info.Bias || info.Activation != Activation.None, s,
                ours, Tflops(s, ours), oursSpot, peer, peer is null ? null : Tflops(s, peer), peerSpot, null);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            var none = new TimingResult(double.NaN, double.NaN, double.NaN, double.NaN, double.NaN, 0, 0);
            return new GemmTiming(Name, InputName, OutputName, Layout, info.Bias || info.Activation != Activation.None, s,
                none, double.NaN, double.NaN, null, null, null, Describe(e));
        }
    }

    private static DeviceBuffer<T> Upload<T>(T[] host)
        where T : unmanaged
    {
        var buffer = new DeviceBuffer<T>(host.Length);
        buffer.CopyFrom(host);
        return buffer;
    }

    /// <summary>C ← op(A)·op(B) (+ bias) with α = 1, β = 0; <paramref name="bias"/> is empty for a kernel without one.</summary>
    private static void Launch(CudaStream stream, DeviceBuffer<TIn> a, int lda, DeviceBuffer<TIn> b, int ldb, DeviceBuffer<TOut> c, int ldc,
        int m, int n, int k, DeviceBuffer<TOut> bias)
        => TKernel.Launch(stream, a, lda, b, ldb, c, ldc, m, n, k, bias, 1f, 0f);
}
