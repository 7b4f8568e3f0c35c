using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using System.Threading.Tasks;
using KernelDsl.Cuda;

namespace KernelDsl.GpuRunner;

/// <summary>
/// check --compile-only: every kernel through NVRTC to CUBIN for each architecture, with ptxas's report per entry point
/// (registers, spills, stack, shared memory). Needs libnvrtc, no GPU; on the GPU machine it reports CUDA 13's ptxas.
/// </summary>
internal static class CompileCommand
{
    public static int Run(Options options)
    {
        Version version;
        IReadOnlyList<int> supported;
        try
        {
            version = NvrtcCompiler.Version;
            supported = NvrtcCompiler.SupportedArchitectures;
        }
        catch (NvrtcUnavailableException e)
        {
            Console.WriteLine($"no NVRTC: {e.Message}");
            return ExitCodes.NoNvrtc;
        }

        var archs = options.Ints("arch", 80, 90).ToList();
        if (!options.Has("arch") && CudaDevice.IsAvailable && !archs.Contains(CudaDevice.Default.Arch))
        {
            archs.Add(CudaDevice.Default.Arch);
        }
        Console.WriteLine($"NVRTC {version}; supported: sm_{string.Join(", sm_", supported)}; compiling for sm_{string.Join(", sm_", archs)}");
        Console.WriteLine(CudaDevice.IsAvailable ? $"device: {CudaDevice.Default}" : $"device: none ({CudaDevice.UnavailableReason})");
        Console.WriteLine();
        Console.WriteLine($"{"",-4}  {"kernel",-24} {"arch",-6} {"entry",-8} {"regs",4} {"spill st/ld",11} {"stack",7} {"smem st+dyn",12} {"limit",8} {"compile s",9}");

        int passed = 0, failed = 0, skipped = 0;
        using var report = Report.Open(options, "compile.json");
        report.WriteEnvironment();
        report.Writer.WriteStartArray("kernels");

        // NVRTC compiles independent programs on several threads at once; the lines are printed in catalog order.
        var jobs = (from kernel in KernelCatalog.Matching(KernelCatalog.All, options.Filter)
                    from arch in archs
                    select (Kernel: kernel, Arch: arch)).ToList();
        var results = new (NvrtcResult? Result, double Seconds, string? Error)[jobs.Count];
        // Why a job is not compiled, or null: an architecture this NVRTC lacks; an sm_90a kernel elsewhere than sm_90 or
        // with an NVRTC older than 12.
        string? Skip(KernelCase kernel, int arch) =>
            !supported.Contains(arch) ? $"NVRTC {version} does not compile for sm_{arch}"
            : kernel.ArchSpecific && arch != 90 ? "an sm_90a kernel: compiled for sm_90 only"
            : kernel.ArchSpecific && version < NvrtcCompiler.ArchSpecificMinimum ? $"NVRTC {version} has no sm_90a target"
            : null;
        int parallelism = Math.Max(1, options.Int("jobs", Math.Min(Environment.ProcessorCount, 8)));
        var wall = Stopwatch.StartNew();
        Parallel.For(0, jobs.Count, new ParallelOptions { MaxDegreeOfParallelism = parallelism }, i =>
        {
            var (kernel, arch) = jobs[i];
            if (Skip(kernel, arch) is not null)
            {
                return;
            }
            var clock = Stopwatch.StartNew();
            try
            {
                var result = NvrtcCompiler.Compile(kernel.Source, kernel.Name + ".cu", new CudaTarget(arch, CudaOutput.Cubin, ArchSpecific: kernel.ArchSpecific));
                results[i] = (result, clock.Elapsed.TotalSeconds, null);
            }
            catch (Exception e) when (e is KernelCompilationException or InvalidOperationException)
            {
                results[i] = (null, clock.Elapsed.TotalSeconds, e.Message);
            }
        });

        for (int i = 0; i < jobs.Count; i++)
        {
            var (kernel, arch) = jobs[i];
            var (result, seconds, error) = results[i];
            if (Skip(kernel, arch) is { } reason)
            {
                Console.WriteLine($"SKIP  {kernel.Name,-24} sm_{arch,-3} {reason}");
                skipped++;
                continue;
            }
            if (result is null)
            {
                Console.WriteLine($"FAIL  {kernel.Name,-24} sm_{arch,-3} {error}");
                failed++;
                Write(report, kernel, arch, null, 0, error, false);
                continue;
            }
            int limit = SharedLimit(arch);
            foreach (var (entry, dynamicShared) in kernel.Entries)
            {
                PtxasFunction function;
                try
                {
                    function = result.Ptxas!.Function(entry);
                }
                catch (KeyNotFoundException e)
                {
                    Console.WriteLine($"FAIL  {kernel.Name,-24} sm_{arch,-3} {e.Message}");
                    failed++;
                    Write(report, kernel, arch, null, dynamicShared, e.Message, false);
                    continue;
                }
                int shared = function.SharedBytes + dynamicShared;
                bool ok = function.SpillStoreBytes == 0 && function.SpillLoadBytes == 0
                    && function.Registers <= ArchitectureLimits.MaxRegistersPerThread && shared <= limit;
                string role = kernel.Entries.Count == 1 ? "gemm"
                    : new[] { "finalize", "delta", "gradient" }.FirstOrDefault(name => entry.Contains("_" + name + "_", StringComparison.Ordinal)) ?? "step";
                Console.WriteLine(
                    $"{(ok ? "PASS" : "FAIL")}  {kernel.Name,-24} sm_{arch,-3} {role,-8} {function.Registers,4} " +
                    $"{$"{function.SpillStoreBytes}/{function.SpillLoadBytes}",11} {function.StackFrameBytes,7} " +
                    $"{$"{function.SharedBytes}+{dynamicShared}",12} {limit,8} {Text.F(seconds, "0.00"),9}");
                if (ok)
                {
                    passed++;
                }
                else
                {
                    failed++;
                }
                Write(report, kernel, arch, function, dynamicShared, null, ok, seconds, limit);
            }
        }
        report.Writer.WriteEndArray();
        report.Writer.WriteNumber("passed", passed);
        report.Writer.WriteNumber("failed", failed);
        report.Writer.WriteNumber("skipped", skipped);
        Console.WriteLine();
        Console.WriteLine(
            $"compile-only: {passed} passed, {failed} failed, {skipped} skipped in {Text.F(wall.Elapsed.TotalSeconds, "0.0")} s on {parallelism} threads " +
            "(pass: 0 spills, ≤ 255 registers, static + dynamic shared memory within the architecture's opt-in limit; bytes)");
        if (report.Path is not null)
        {
            Console.WriteLine($"JSON: {report.Path}");
        }
        return failed == 0 ? ExitCodes.Passed : ExitCodes.Failed;
    }

    private static int SharedLimit(int arch)
    {
        try
        {
            return ArchitectureLimits.MaxSharedBytesPerBlock(arch);
        }
        catch (ArgumentOutOfRangeException)
        {
            return 99 * 1024;  // the smallest opt-in limit of sm_80 and newer
        }
    }

    private static void Write(
        Report report, KernelCase kernel, int arch, PtxasFunction? function, int dynamicShared, string? error, bool ok,
        double seconds = double.NaN, int limit = 0)
    {
        var w = report.Writer;
        w.WriteStartObject();
        w.WriteString("kernel", kernel.Name);
        w.WriteString("kind", kernel.Kind);
        w.WriteNumber("arch", arch);
        w.WriteBoolean("passed", ok);
        if (function is not null)
        {
            w.WriteString("entry", function.Name);
            w.WriteNumber("registers", function.Registers);
            w.WriteNumber("spill_store_bytes", function.SpillStoreBytes);
            w.WriteNumber("spill_load_bytes", function.SpillLoadBytes);
            w.WriteNumber("stack_bytes", function.StackFrameBytes);
            w.WriteNumber("static_shared_bytes", function.SharedBytes);
            w.WriteNumber("dynamic_shared_bytes", dynamicShared);
            w.WriteNumber("shared_limit_bytes", limit);
            report.Number("compile_seconds", seconds);
        }
        if (error is not null)
        {
            w.WriteString("error", error);
        }
        w.WriteString("plan", kernel.Description);
        w.WriteEndObject();
    }
}
