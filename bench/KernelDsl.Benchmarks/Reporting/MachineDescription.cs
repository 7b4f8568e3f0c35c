using System;
using System.IO;
using System.Linq;
using System.Runtime.InteropServices;
using KernelDsl.Cpu;
using Microsoft.ML.OnnxRuntime;

namespace KernelDsl.Benchmarks;

/// <summary>What a figure was measured on: CPU, cores, vector width used, runtime and the peers' versions.</summary>
public static class MachineDescription
{
    /// <summary>The 1-, 5- and 15-minute load averages ("2.31 2.02 3.13"), or "unknown" off Linux.</summary>
    public static string LoadAverage() => File.Exists("/proc/loadavg")
        ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3))
        : "unknown";

    /// <summary>One line, e.g. "AMD EPYC 9R14, 2 logical cores, Vector512; .NET 10.0.1; OpenBLAS 0.3.21 …; ONNX Runtime 1.31.1".</summary>
    public static unsafe string Describe()
    {
        string cpu = File.Exists("/proc/cpuinfo")
            ? File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim() ?? "unknown CPU"
            : RuntimeInformation.ProcessArchitecture.ToString();
        string openBlas = Marshal.PtrToStringUTF8((nint)OpenBlasNative.GetConfig()) ?? "OpenBLAS (unknown build)";
        return $"{cpu}, {Environment.ProcessorCount} logical cores, {CpuFeatures.Best}; {RuntimeInformation.FrameworkDescription} on {RuntimeInformation.OSDescription}; " +
               $"{openBlas.Trim()}; ONNX Runtime {OrtEnv.Instance().GetVersionString()}";
    }
}
