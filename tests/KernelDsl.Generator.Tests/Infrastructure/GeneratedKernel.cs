using System;
using System.Collections.Generic;
using System.Linq;
using System.Globalization;
using System.Text.RegularExpressions;

namespace KernelDsl.Generator.Tests.Infrastructure;

/// <summary>One generated kernel's CUDA side, as the NVRTC and SASS tests need it.</summary>
/// <param name="Name">The kernel's qualified class name, e.g. <c>GemmSample.Square</c>.</param>
/// <param name="Kind">GEMM or ring attention.</param>
/// <param name="FromRepository">Declared in the repository (samples, tests, bench), not by a test's configuration matrix.</param>
/// <param name="Cuda">The generated <c>CudaSource</c>.</param>
/// <param name="Entries">Its <c>extern "C"</c> entries; the first is the main one (the GEMM, the attention step).</param>
/// <param name="DynamicSharedBytes">Dynamic shared memory of each entry, in the order of <paramref name="Entries"/>.</param>
/// <param name="TensorCores">F16 or BF16 operands: the main entry computes with <c>mma.sync</c> (HMMA), else with FFMA.</param>
internal sealed record GeneratedKernel(
    string Name,
    GeneratedKernel.Family Kind,
    bool FromRepository,
    string Cuda,
    IReadOnlyList<string> Entries,
    IReadOnlyList<int> DynamicSharedBytes,
    bool TensorCores)
{
    /// <summary>What a kernel computes.</summary>
    public enum Family
    {
        Gemm,
        Attention,
    }

    /// <summary>The GEMM or attention step entry.</summary>
    public string MainEntry => Entries[0];

    /// <summary>A GEMM's sm_90a kernel (<c>CudaSourceSm90a</c>, compiled for the arch-specific target); null when it has none.</summary>
    public GeneratedKernel? Sm90a { get; init; }

    /// <summary>An attention kernel's backward pass (<c>CudaBackwardSource</c>: step, delta, gradient); null when it has none.</summary>
    public GeneratedKernel? Backward { get; init; }

    /// <summary>Whether <see cref="Cuda"/> is an sm_90a kernel (NVRTC 12, <c>sm_90a</c>) rather than one for sm_80 and newer.</summary>
    public bool ArchSpecific { get; init; }

    /// <summary>The CUDA with the kernel's own names replaced: equal for kernels that differ only in their names.</summary>
    public string CudaWithoutNames
    {
        get
        {
            string cuda = Cuda;
            foreach (string entry in Entries)
            {
                cuda = cuda.Replace(entry, "ENTRY", StringComparison.Ordinal);
            }
            return cuda.Replace(Name, "KERNEL", StringComparison.Ordinal);
        }
    }

    /// <summary>The kernel of a generated file: a <c>[Gemm]</c> or <c>[RingAttention]</c> one; null for any other file.</summary>
    public static GeneratedKernel? Parse(string name, string generated, bool fromRepository)
    {
        if (generated.Contains("public const string EntryPoint", StringComparison.Ordinal))
        {
            return new(
                name,
                Family.Gemm,
                fromRepository,
                GeneratorRun.CudaSourceOf(generated),
                [Constant(generated, "EntryPoint")],
                [SharedBytes(generated)],
                Element(generated, @"Info \{ get; \} = new\([^;]*?global::KernelDsl\.Element\.(\w+)") != "F32")
            {
                Sm90a = generated.Contains("public const string CudaSourceSm90a", StringComparison.Ordinal)
                    ? new(
                        name + ".Sm90a",
                        Family.Gemm,
                        fromRepository,
                        GeneratorRun.CudaSourceOf(generated, "CudaSourceSm90a"),
                        [Constant(generated, "EntryPointSm90a")],
                        [int.Parse(Regex.Match(generated, @"Sm90a = new\([^;]*?SharedMemoryBytes: (\d+)").Groups[1].Value, CultureInfo.InvariantCulture)],
                        TensorCores: true) { ArchSpecific = true }
                    : null,
            };
        }

        if (generated.Contains("public const string StepEntryPoint", StringComparison.Ordinal))
        {
            bool tensorCores = Element(generated, @"HeadDim: \d+, global::KernelDsl\.Element\.(\w+)") != "F32";
            return new(
                name,
                Family.Attention,
                fromRepository,
                GeneratorRun.CudaSourceOf(generated),
                [Constant(generated, "StepEntryPoint"), Constant(generated, "FinalizeEntryPoint")],
                [SharedBytes(generated), 0],
                tensorCores)
            {
                Backward = generated.Contains("public const string CudaBackwardSource", StringComparison.Ordinal)
                    ? new(
                        name + ".Backward",
                        Family.Attention,
                        fromRepository,
                        GeneratorRun.CudaSourceOf(generated, "CudaBackwardSource"),
                        [.. BackwardInfo(generated).Groups.Cast<Group>().Skip(1).Take(3).Select(g => g.Value)],
                        [int.Parse(BackwardInfo(generated).Groups[4].Value, CultureInfo.InvariantCulture), 0, 0],
                        tensorCores)
                    : null,
            };
        }

        return null;
    }

    /// <summary>The generated <c>Backward = new("step", "delta", "gradient", …, SharedMemoryBytes: n)</c>: groups 1–3 the entries, 4 the bytes.</summary>
    private static Match BackwardInfo(string generated) =>
        Regex.Match(generated, @"Backward = new\(""(\w+)"", ""(\w+)"", ""(\w+)"",[^;]*?SharedMemoryBytes: (\d+)\)");

    private static string Constant(string generated, string constant) =>
        Regex.Match(generated, constant + " = \"(\\w+)\"").Groups[1].Value;

    private static int SharedBytes(string generated) =>
        int.Parse(Regex.Match(generated, @"SharedMemoryBytes: (\d+)").Groups[1].Value, CultureInfo.InvariantCulture);

    private static string Element(string generated, string pattern) =>
        Regex.Match(generated, pattern, RegexOptions.Singleline) is { Success: true } match
            ? match.Groups[1].Value
            : throw new KeyNotFoundException($"No element type matching {pattern} in the generated Info.");
}
