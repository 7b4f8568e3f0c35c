using System;
using System.Diagnostics;
using System.Linq;
using KernelDsl.Cuda;

namespace KernelDsl.GpuRunner;

/// <summary>
/// check: every kernel on the GPU. GEMMs on ragged shapes (inputs with NaN row padding and a NaN tail, output
/// poisoned with NaN), attention forward and backward on small ragged sequences (gradients poisoned with NaN), each
/// against a float64 reference of the rounded inputs. With KERNELDSL_BACKEND=emulator the same checks run on the CPU
/// emulator (slowly; narrow them with --filter).
/// </summary>
internal static class CheckCommand
{
    /// <summary>Shapes every GEMM runs (K a multiple of 8, as the tensor-core path requires).</summary>
    private static readonly (int M, int N, int K)[] Shapes =
    [
        (1, 1, 8), (127, 129, 64), (513, 257, 264), (33, 1031, 72), (1000, 1000, 1000),
    ];

    /// <summary>Extra shapes for the fp32 SIMT kernels, which take any K.</summary>
    private static readonly (int M, int N, int K)[] Fp32Shapes = [(7, 5, 3), (17, 33, 65)];

    /// <summary>Attention: heads, K/V heads (GQA when fewer), sequence.</summary>
    private static readonly (int Heads, int KvHeads, int Sequence)[] AttentionShapes =
    [
        (2, 2, 1), (2, 2, 77), (2, 1, 300), (4, 2, 513),
    ];

    /// <summary>The backward's shapes: those of the forward but S = 1, where dQ = dK = 0 exactly and a relative error is undefined.</summary>
    private static readonly (int Heads, int KvHeads, int Sequence)[] AttentionBackwardShapes = [.. AttentionShapes.Where(shape => shape.Sequence > 1)];

    public static int Run(Options options)
    {
        bool emulated = BackendSelector.Default == KernelBackend.Emulator;  // KERNELDSL_BACKEND=emulator: the same checks on the CPU emulator
        if (!CudaDevice.IsAvailable && !emulated)
        {
            Console.WriteLine($"no CUDA device: {CudaDevice.UnavailableReason}");
            using (var noDevice = Report.Open(options, "check.json"))
            {
                noDevice.Writer.WriteString("status", "no-device");
                noDevice.Writer.WriteString("reason", CudaDevice.UnavailableReason);
            }
            Console.WriteLine("(check --compile-only compiles every kernel without one)");
            return ExitCodes.NoDevice;
        }
        var device = CudaDevice.Default;
        if (NvrtcProbe.Describe() is not { } nvrtc)
        {
            return ExitCodes.NoNvrtc;
        }
        int seed = options.OptionalInt("seed") ?? Random.Shared.Next(1, 1_000_000);
        Console.WriteLine($"device: {device}");
        Console.WriteLine($"NVRTC {nvrtc}; kernel cache {KernelCache.Directory}");
        Console.WriteLine($"seed {seed} (rerun with --seed {seed})");
        Console.WriteLine();

        using var report = Report.Open(options, "check.json");
        report.WriteEnvironment();
        report.Writer.WriteNumber("seed", seed);
        using var stream = new CudaStream();
        int passed = 0, failed = 0, index = 0;

        report.Writer.WriteStartArray("gemm");
        foreach (var gemm in KernelCatalog.Matching(KernelCatalog.Gemms, options.Filter))
        {
            if (!Load(gemm, gemm.Source, gemm.Info.EntryPoint, gemm.Info.SharedMemoryBytes, out string? loadError))
            {
                failed++;
                WriteGemm(report, new GemmCheck(gemm.Name, 0, 0, 0, 0, 0, seed, double.NaN, gemm.Tolerance, 0, loadError));
                continue;
            }
            var shapes = gemm.TensorCore ? Shapes : [.. Fp32Shapes, .. Shapes];
            foreach (var (m, n, k) in shapes)
            {
                var clock = Stopwatch.StartNew();
                var result = gemm.Check(stream, m, n, k, seed + 100 * index++);
                Console.WriteLine(
                    $"  {(result.Passed ? "PASS" : "FAIL")}  {$"{m}×{n}×{k}",-16} lda {result.Lda,-5} ldb {result.Ldb,-5} " +
                    $"rel. error {Text.E(result.Error)} (≤ {Text.E(result.Tolerance)})  NaN {result.NaNs}  seed {result.Seed}  " +
                    $"{Text.F(clock.Elapsed.TotalSeconds, "0.0")} s{(result.Failure is null ? "" : "  " + result.Failure)}");
                if (result.Passed)
                {
                    passed++;
                }
                else
                {
                    failed++;
                }
                WriteGemm(report, result);
                report.Writer.Flush();  // what was checked survives a timeout (the log has the lines too)
            }
        }
        report.Writer.WriteEndArray();

        report.Writer.WriteStartArray("attention");
        foreach (var attention in KernelCatalog.Matching(KernelCatalog.Attentions, options.Filter))
        {
            bool loaded = Load(attention, attention.Source, attention.Info.StepEntryPoint, attention.Info.SharedMemoryBytes, out string? stepError)
                & Load(attention, attention.Source, attention.Info.FinalizeEntryPoint, 0, out string? finalizeError);
            if (!loaded)
            {
                failed++;
                WriteAttention(report, new AttentionCheck(attention.Name, 0, 0, 0, seed, double.NaN, double.NaN, 0, 0, stepError ?? finalizeError));
                continue;
            }
            foreach (var (heads, kvHeads, sequence) in AttentionShapes)
            {
                var result = attention.Check(stream, heads, kvHeads, sequence, seed + 100 * index++);
                Console.WriteLine(
                    $"  {(result.Passed ? "PASS" : "FAIL")}  {$"h{heads}/kv{kvHeads} S{sequence}",-16} O rel. error {Text.E(result.OutputError)} (≤ {Text.E(result.Tolerance)})  " +
                    $"LSE {Text.E(result.LseError)} (≤ {Text.E(AttentionCheck.LseTolerance)})  NaN {result.NaNs}  seed {result.Seed}" +
                    $"{(result.Failure is null ? "" : "  " + result.Failure)}");
                if (result.Passed)
                {
                    passed++;
                }
                else
                {
                    failed++;
                }
                WriteAttention(report, result);
                report.Writer.Flush();
            }
        }
        report.Writer.WriteEndArray();

        report.Writer.WriteStartArray("attention_backward");
        foreach (var attention in KernelCatalog.Matching(KernelCatalog.Attentions, options.Filter))
        {
            if (attention.Backward is not { } backward)
            {
                continue;
            }
            string? loadError = null;
            bool loaded = true;
            foreach (var (entry, shared) in backward.Entries)
            {
                loaded &= Load(backward, backward.Source, entry, shared, out string? error);
                loadError ??= error;
            }
            if (!loaded)
            {
                failed++;
                WriteBackward(report, new AttentionBackwardCheck(backward.Name, 0, 0, 0, seed, double.NaN, double.NaN, double.NaN, 0, 0, loadError));
                continue;
            }
            foreach (var (heads, kvHeads, sequence) in AttentionBackwardShapes)
            {
                var result = attention.CheckBackward(stream, heads, kvHeads, sequence, seed + 100 * index++);
                Console.WriteLine(
                    $"  {(result.Passed ? "PASS" : "FAIL")}  {$"h{heads}/kv{kvHeads} S{sequence}",-16} backward rel. error dQ {Text.E(result.DqError)}, dK {Text.E(result.DkError)}, " +
                    $"dV {Text.E(result.DvError)} (≤ {Text.E(result.Tolerance)})  NaN {result.NaNs}  seed {result.Seed}" +
                    $"{(result.Failure is null ? "" : "  " + result.Failure)}");
                if (result.Passed)
                {
                    passed++;
                }
                else
                {
                    failed++;
                }
                WriteBackward(report, result);
                report.Writer.Flush();
            }
        }
        report.Writer.WriteEndArray();
        report.Writer.WriteNumber("passed", passed);
        report.Writer.WriteNumber("failed", failed);

        Console.WriteLine();
        Console.WriteLine($"check: {passed} passed, {failed} failed (seed {seed})");
        if (report.Path is not null)
        {
            Console.WriteLine($"JSON: {report.Path}");
        }
        return failed == 0 ? ExitCodes.Passed : ExitCodes.Failed;
    }

    /// <summary>Compiles (NVRTC, for the device) and loads one entry point, printing what the driver reports of it.</summary>
    private static bool Load(KernelCase kernel, string source, string entry, int dynamicShared, out string? error)
    {
        var clock = Stopwatch.StartNew();
        try
        {
            CudaFunction function = KernelCache.GetOrLoad(source, entry);
            Console.WriteLine(
                $"{kernel.Name} [{entry}]: {function.Registers} registers, {function.LocalBytes} B local (spills/stack), " +
                $"{function.StaticSharedBytes} B static + {dynamicShared} B dynamic shared; compiled and loaded in {Text.F(clock.Elapsed.TotalSeconds, "0.00")} s");
            error = null;
            return true;
        }
        catch (Exception e) when (e is KernelCompilationException or CudaException or NvrtcUnavailableException or InvalidOperationException or NotSupportedException)
        {
            error = $"{e.GetType().Name}: {e.Message}";
            Console.WriteLine($"{kernel.Name} [{entry}]: FAIL to compile or load: {error}");
            return false;
        }
    }

    private static void WriteGemm(Report report, GemmCheck result)
    {
        var w = report.Writer;
        w.WriteStartObject();
        w.WriteString("kernel", result.Kernel);
        w.WriteNumber("m", result.M);
        w.WriteNumber("n", result.N);
        w.WriteNumber("k", result.K);
        w.WriteNumber("lda", result.Lda);
        w.WriteNumber("ldb", result.Ldb);
        w.WriteNumber("seed", result.Seed);
        report.Number("rel_error", result.Error);
        report.Number("tolerance", result.Tolerance);
        w.WriteNumber("nan_elements", result.NaNs);
        w.WriteBoolean("passed", result.Passed);
        if (result.Failure is not null)
        {
            w.WriteString("error", result.Failure);
        }
        w.WriteEndObject();
    }

    private static void WriteAttention(Report report, AttentionCheck result)
    {
        var w = report.Writer;
        w.WriteStartObject();
        w.WriteString("kernel", result.Kernel);
        w.WriteNumber("heads", result.Heads);
        w.WriteNumber("kv_heads", result.KvHeads);
        w.WriteNumber("sequence", result.Sequence);
        w.WriteNumber("seed", result.Seed);
        report.Number("o_rel_error", result.OutputError);
        report.Number("lse_rel_error", result.LseError);
        report.Number("tolerance", result.Tolerance);
        w.WriteNumber("nan_elements", result.NaNs);
        w.WriteBoolean("passed", result.Passed);
        if (result.Failure is not null)
        {
            w.WriteString("error", result.Failure);
        }
        w.WriteEndObject();
    }

    private static void WriteBackward(Report report, AttentionBackwardCheck result)
    {
        var w = report.Writer;
        w.WriteStartObject();
        w.WriteString("kernel", result.Kernel);
        w.WriteNumber("heads", result.Heads);
        w.WriteNumber("kv_heads", result.KvHeads);
        w.WriteNumber("sequence", result.Sequence);
        w.WriteNumber("seed", result.Seed);
        report.Number("dq_rel_error", result.DqError);
        report.Number("dk_rel_error", result.DkError);
        report.Number("dv_rel_error", result.DvError);
        report.Number("tolerance", result.Tolerance);
        w.WriteNumber("nan_elements", result.NaNs);
        w.WriteBoolean("passed", result.Passed);
        if (result.Failure is not null)
        {
            w.WriteString("error", result.Failure);
        }
        w.WriteEndObject();
    }
}
