using System;
using System.Collections.Generic;
using System.Linq;
using KernelDsl.Cuda;

namespace KernelDsl.GpuRunner;

/// <summary>
/// time: the GEMMs at m = n = k (16-bit at 4096 and 8192, fp32 at 4096 by default) against cuBLAS in the same process
/// on the same device buffers, then the attention kernels. Each figure is the median per-launch time of many samples
/// (CUDA events around back-to-back launches, after a warm-up); TFLOP/s = 2mnk / median (attention: 4·S²·d·heads,
/// halved when causal). Every timed result is spot-checked against float64 (256 random elements, 8 attention rows).
/// </summary>
internal static class TimeCommand
{
    /// <summary>A small product with m ≠ n ≠ k (n a multiple of 8 for the NN layout's ldb) that pins the cuBLAS mapping.</summary>
    private const int PeerM = 200, PeerN = 136, PeerK = 72;

    public static int Run(Options options)
    {
        if (!CudaDevice.IsAvailable)
        {
            Console.WriteLine($"no CUDA device: {CudaDevice.UnavailableReason}");
            using (var noDevice = Report.Open(options, "time.json"))
            {
                noDevice.Writer.WriteString("status", "no-device");
                noDevice.Writer.WriteString("reason", CudaDevice.UnavailableReason);
            }
            return ExitCodes.NoDevice;
        }
        var device = CudaDevice.Default;
        if (NvrtcProbe.Describe() is not { } nvrtc)
        {
            return ExitCodes.NoNvrtc;
        }
        int seed = options.OptionalInt("seed") ?? Random.Shared.Next(1, 1_000_000);
        int samples = Math.Max(options.Int("samples", 25), 1);
        var sizes = options.Ints("sizes", 4096, 8192);
        var fp32Sizes = options.Ints("fp32-sizes", 4096);
        var sequences = options.Ints("attention-seq", 4096, 8192, 16384);
        int heads = options.Int("heads", 16);
        Console.WriteLine($"device: {device}");
        Console.WriteLine($"NVRTC {nvrtc}; seed {seed}; {samples} samples per figure (median), warm-up 3 launches");

        using var report = Report.Open(options, "time.json");
        report.WriteEnvironment();
        report.Writer.WriteNumber("seed", seed);
        report.Writer.WriteNumber("samples", samples);
        int failures = 0;

        // cuBLAS, a raw stream for it, and the mapping check.
        Cublas? cublas = null;
        DriverEvents? driver = null;
        IntPtr cublasStream = IntPtr.Zero;
        var peerOk = new Dictionary<string, bool>(StringComparer.Ordinal);
        var gemms = KernelCatalog.Matching(KernelCatalog.Gemms, options.Filter).ToList();
        using var stream = new CudaStream();
        if (!options.Has("no-cublas"))
        {
            cublas = Cublas.TryCreate(out string? reason);
            if (cublas is null)
            {
                Console.WriteLine($"cuBLAS: not available: {reason}; timing our kernels only");
                report.Writer.WriteString("cublas_error", reason);
            }
            else
            {
                device.Synchronize();  // makes the primary context current on this thread for the raw driver calls
                driver = DriverEvents.Open();
                cublasStream = driver.CreateStream();
                Console.WriteLine($"cuBLAS {cublas.Version} ({cublas.Library}); cublasGemmEx, CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT");
                report.Writer.WriteString("cublas", cublas.Version);
                report.Writer.WriteString("cublas_library", cublas.Library);
                Console.WriteLine();
                Console.WriteLine($"cuBLAS layout check ({PeerM}×{PeerN}×{PeerK}, both against float64):");
                report.Writer.WriteStartArray("cublas_layout_checks");
                foreach (var gemm in gemms.GroupBy(g => g.PeerKey).Select(group => group.First()))
                {
                    var check = gemm.CheckPeer(stream, cublas, cublasStream, driver, PeerM, PeerN, PeerK, seed + 7);
                    peerOk[gemm.PeerKey] = check.Passed;
                    failures += check.Passed ? 0 : 1;
                    Console.WriteLine(
                        $"  {(check.Passed ? "PASS" : "FAIL")}  {gemm.PeerKey,-14} via {gemm.Name,-18} cuBLAS {Text.E(check.CublasError)}  ours {Text.E(check.OursError)}  " +
                        $"(≤ {Text.E(check.Tolerance)}){(check.Failure is null ? "" : "  " + check.Failure)}");
                    var w = report.Writer;
                    w.WriteStartObject();
                    w.WriteString("peer", gemm.PeerKey);
                    w.WriteString("kernel", gemm.Name);
                    w.WriteNumber("m", PeerM);
                    w.WriteNumber("n", PeerN);
                    w.WriteNumber("k", PeerK);
                    report.Number("cublas_rel_error", check.CublasError);
                    report.Number("ours_rel_error", check.OursError);
                    w.WriteBoolean("passed", check.Passed);
                    if (check.Failure is not null)
                    {
                        w.WriteString("error", check.Failure);
                    }
                    w.WriteEndObject();
                }
                report.Writer.WriteEndArray();
            }
        }

        // GEMM timing.
        Console.WriteLine();
        var rows = new List<GemmTiming>();
        var peers = new Dictionary<(string Key, int Size), GemmTiming>();
        foreach (int size in sizes.Concat(fp32Sizes).Distinct().Order())
        {
            using var pool = new OperandPool(size);
            foreach (var gemm in gemms.Where(g => (g.TensorCore ? sizes : fp32Sizes).Contains(size)))
            {
                bool wantPeer = cublas is not null && peerOk.GetValueOrDefault(gemm.PeerKey) && !peers.ContainsKey((gemm.PeerKey, size));
                GemmTiming row = gemm.Time(stream, pool, size, samples, seed, wantPeer ? cublas : null, cublasStream, driver);
                if (wantPeer && row.Peer is not null)
                {
                    peers[(gemm.PeerKey, size)] = row;
                }
                else if (peers.TryGetValue((gemm.PeerKey, size), out var peer))
                {
                    row = row with { Peer = peer.Peer, PeerTflops = peer.PeerTflops, PeerSpotError = peer.PeerSpotError };
                }
                bool spotOk = row.Failure is null && row.OursSpotError <= gemm.Tolerance
                    && (row.PeerSpotError is null || row.PeerSpotError <= gemm.Tolerance);
                failures += spotOk ? 0 : 1;
                rows.Add(row);
                Console.WriteLine(
                    $"{(spotOk ? "    " : "FAIL")}  {gemm.Name,-18} {gemm.PeerKey,-14} {size,5}³  ours {Text.F(row.OursTflops, "0.0"),7} TFLOP/s " +
                    $"({Text.F(row.Ours.MedianMs, "0.000")} ms ±{Text.F(100 * row.Ours.RelativeSpread, "0.0")}%)  " +
                    $"cuBLAS {(row.PeerTflops is { } p ? Text.F(p, "0.0") : "n/a"),7}  ratio {(row.Ratio is { } r ? Text.F(r, "0.00") : "n/a")}  " +
                    $"spot {Text.E(row.OursSpotError)}{(row.Failure is null ? "" : "  " + row.Failure)}");
            }
        }
        WriteGemms(report, rows);
        report.Writer.Flush();

        // Attention timing (PyTorch's SDPA runs from bench/gpu/torch_sdpa.py in the same job).
        var attentionRows = new List<AttentionTiming>();
        if (!options.Has("no-attention"))
        {
            Console.WriteLine();
            foreach (var attention in KernelCatalog.Matching(KernelCatalog.Attentions, options.Filter))
            {
                // The backward step where the kernel has one (16-bit elements), after the forward at each length.
                var passes = attention.Info.Element == Element.F32
                    ? new Func<int, AttentionTiming>[] { sequence => attention.Time(stream, heads, sequence, samples, seed) }
                    : [sequence => attention.Time(stream, heads, sequence, samples, seed), sequence => attention.TimeBackward(stream, heads, sequence, samples, seed)];
                foreach (var (sequence, pass) in sequences.SelectMany(sequence => passes.Select(pass => (sequence, pass))))
                {
                    var row = pass(sequence);
                    bool ok = row.Failure is null && row.SpotError <= attention.Info.Element switch
                    {
                        Element.BF16 => BF16.Tolerance,
                        Element.F16 => F16.Tolerance,
                        _ => F32.Tolerance,
                    };
                    failures += ok ? 0 : 1;
                    attentionRows.Add(row);
                    Console.WriteLine(
                        $"{(ok ? "    " : "FAIL")}  {attention.Name,-24} {(row.Backward ? "bwd" : "fwd")} {AttentionCase.Shape(heads, sequence, row.HeadDim),-18} {(row.Causal ? "causal" : "full"),-6} " +
                        $"{Text.F(row.Tflops, "0.0"),7} TFLOP/s ({Text.F(row.Timing.MedianMs, "0.000")} ms ±{Text.F(100 * row.Timing.RelativeSpread, "0.0")}%)  " +
                        $"spot {Text.E(row.SpotError)}{(row.Failure is null ? "" : "  " + row.Failure)}");
                }
            }
        }
        WriteAttention(report, attentionRows);

        PrintSummary(rows, attentionRows);
        report.Writer.WriteNumber("failures", failures);
        if (report.Path is not null)
        {
            Console.WriteLine($"JSON: {report.Path}");
        }
        if (driver is not null && cublasStream != IntPtr.Zero)
        {
            driver.DestroyStream(cublasStream);
        }
        cublas?.Dispose();
        return failures == 0 ? ExitCodes.Passed : ExitCodes.Failed;
    }

    /// <summary>The table a reader wants last: per input type and size, every configuration, the best, and cuBLAS.</summary>
    private static void PrintSummary(List<GemmTiming> rows, List<AttentionTiming> attentionRows)
    {
        Console.WriteLine();
        Console.WriteLine("| kernel | in>out layout | size | ours TFLOP/s | cuBLAS TFLOP/s | ours/cuBLAS | spread |");
        Console.WriteLine("|---|---|---|---|---|---|---|");
        foreach (var row in rows)
        {
            Console.WriteLine(
                $"| {row.Kernel}{(row.Epilogue ? " (fused epilogue; peer plain)" : "")} | {row.Input}>{row.Output} {row.Layout} | {row.Size}³ | {Text.F(row.OursTflops, "0.0")} | " +
                $"{(row.PeerTflops is { } p ? Text.F(p, "0.0") : "n/a")} | {(row.Ratio is { } r ? Text.F(r, "0.00") : "n/a")} | ±{Text.F(100 * row.Ours.RelativeSpread, "0.0")}% |");
        }
        Console.WriteLine();
        foreach (var group in rows.Where(r => r.Layout == "TN" && !r.Epilogue && r.Input != "F32" && double.IsFinite(r.OursTflops))
                     .GroupBy(r => (r.Input, r.Size)))
        {
            var best = group.MaxBy(r => r.OursTflops)!;
            Console.WriteLine(
                $"best {group.Key.Input} TN {group.Key.Size}³: {best.Kernel} {Text.F(best.OursTflops, "0.0")} TFLOP/s, cuBLAS " +
                $"{(best.PeerTflops is { } p ? Text.F(p, "0.0") : "n/a")}, ratio {(best.Ratio is { } r ? Text.F(r, "0.00") : "n/a")} (issue 3 target ≥ 0.70 at 8192³)");
        }
        if (attentionRows.Count > 0)
        {
            Console.WriteLine();
            Console.WriteLine("| attention kernel | pass | shape | mask | TFLOP/s | ms | spread |");
            Console.WriteLine("|---|---|---|---|---|---|---|");
            foreach (var row in attentionRows)
            {
                Console.WriteLine(
                    $"| {row.Kernel} | {(row.Backward ? "backward" : "forward")} | {AttentionCase.Shape(row.Heads, row.Sequence, row.HeadDim)} | {(row.Causal ? "causal" : "full")} | {Text.F(row.Tflops, "0.0")} | " +
                    $"{Text.F(row.Timing.MedianMs, "0.000")} | ±{Text.F(100 * row.Timing.RelativeSpread, "0.0")}% |");
            }
        }
    }

    private static void WriteGemms(Report report, List<GemmTiming> rows)
    {
        var w = report.Writer;
        w.WriteStartArray("gemm");
        foreach (var row in rows)
        {
            w.WriteStartObject();
            w.WriteString("kernel", row.Kernel);
            w.WriteString("input", row.Input);
            w.WriteString("output", row.Output);
            w.WriteString("layout", row.Layout);
            w.WriteBoolean("fused_epilogue", row.Epilogue);
            w.WriteNumber("m", row.Size);
            w.WriteNumber("n", row.Size);
            w.WriteNumber("k", row.Size);
            report.Timing("ours", row.Ours);
            report.Number("ours_tflops", row.OursTflops);
            report.Number("ours_spot_rel_error", row.OursSpotError);
            report.Timing("cublas", row.Peer);
            report.Number("cublas_tflops", row.PeerTflops ?? double.NaN);
            report.Number("cublas_spot_rel_error", row.PeerSpotError ?? double.NaN);
            report.Number("ratio_ours_over_cublas", row.Ratio ?? double.NaN);
            if (row.Failure is not null)
            {
                w.WriteString("error", row.Failure);
            }
            w.WriteEndObject();
        }
        w.WriteEndArray();
    }

    private static void WriteAttention(Report report, List<AttentionTiming> rows)
    {
        var w = report.Writer;
        w.WriteStartArray("attention");
        foreach (var row in rows)
        {
            w.WriteStartObject();
            w.WriteString("kernel", row.Kernel);
            w.WriteNumber("batch", 1);
            w.WriteNumber("heads", row.Heads);
            w.WriteNumber("sequence", row.Sequence);
            w.WriteNumber("head_dim", row.HeadDim);
            w.WriteBoolean("causal", row.Causal);
            w.WriteString("pass", row.Backward ? "backward" : "forward");
            report.Timing("ours", row.Timing);
            report.Number("tflops", row.Tflops);
            report.Number("spot_rel_error", row.SpotError);
            if (row.Failure is not null)
            {
                w.WriteString("error", row.Failure);
            }
            w.WriteEndObject();
        }
        w.WriteEndArray();
    }
}
