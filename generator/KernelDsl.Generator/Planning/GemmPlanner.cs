using System.Text;
using KernelDsl.Generator.Model;
using KernelDsl.Generator.Parsing;

namespace KernelDsl.Generator.Planning;

/// <summary>Derives a <see cref="GemmPlan"/> from a validated <see cref="GemmSpec"/>.</summary>
internal static class GemmPlanner
{
    // Cache sizes the CPU blocking is derived for (Zen 4 / Sapphire Rapids class per core).
    private const int L1Bytes = 32 * 1024;
    private const int L2Bytes = 1024 * 1024;
    private const int L3BytesPerCore = 4 * 1024 * 1024;

    public static GemmPlan Plan(GemmSpec spec) => new(
        spec.Kernel,
        EntryPoint(spec.Kernel),
        spec.Operands,
        spec.Epilogue,
        PlanCuda(spec),
        new[] { PlanCpu(CpuIsa.Vector512), PlanCpu(CpuIsa.Vector256), PlanCpu(CpuIsa.Vector128), PlanCpu(CpuIsa.Scalar) }.ToEquatableArray());

    /// <summary>Validation guarantees the warp grid divides the tile and a thread tile exists.</summary>
    private static CudaGemmPlan PlanCuda(GemmSpec spec)
    {
        int warpTileM = spec.Tile.M / spec.Warps.M, warpTileN = spec.Tile.N / spec.Warps.N;
        var thread = ThreadTile.Find(warpTileM, warpTileN)!;
        var (a, b) = Copies(spec);
        return new CudaGemmPlan(
            spec.Tile.M, spec.Tile.N, spec.Tile.K,
            spec.Warps.M, spec.Warps.N,
            warpTileM, warpTileN,
            thread.LanesM, thread.LanesN, thread.M, thread.N,
            spec.Stages, a, b);
    }

    /// <summary>How A and B reach shared memory; validation uses it to size shared memory.</summary>
    public static (OperandCopy A, OperandCopy B) Copies(GemmSpec spec)
        => (Copy("A", contiguousAlongK: !spec.Operands.TransposeA, extent: spec.Tile.M),
            Copy("B", contiguousAlongK: spec.Operands.TransposeB, extent: spec.Tile.N));

    /// <summary>
    /// Shared memory is K-major. An operand whose stored rows run along M (or N) lands row for row,
    /// four elements per 16-byte copy, when the tile's extent is a multiple of 4; otherwise every
    /// element is its own 4-byte copy, which also transposes a K-contiguous operand (padded rows).
    /// </summary>
    private static OperandCopy Copy(string name, bool contiguousAlongK, int extent)
        => new(name, contiguousAlongK, !contiguousAlongK && extent % 4 == 0 ? 4 : 1, contiguousAlongK ? 4 : 0);

    /// <summary>
    /// BLIS blocking. The microkernel keeps Mr×Nr accumulators in registers: Mr rows of Nr/lanes
    /// vectors, using about half the vector registers for accumulators so the B vectors and the A
    /// broadcast fit beside them (32 registers with AVX-512 and NEON, 16 with AVX2 and SSE).
    /// Kc: one Kc×Nr sliver of packed B stays in half of L1 while the Mr-row slivers of A stream past.
    /// Mc: an Mc×Kc block of packed A stays in half of L2 while the Nr-column slivers of B stream past.
    /// Nc: a Kc×Nc panel of packed B stays in this core's share of L3.
    /// </summary>
    private static CpuBlocking PlanCpu(CpuIsa isa)
    {
        (int lanes, int mr, int nr) = isa switch
        {
            CpuIsa.Vector512 => (16, 8, 32),   // 16 accumulators of 32 zmm
            CpuIsa.Vector256 => (8, 6, 16),    // 12 accumulators of 16 ymm
            CpuIsa.Vector128 => (4, 6, 8),     // 12 accumulators of 16 xmm
            _ => (1, 4, 4),                    // 16 scalar accumulators
        };
        int kc = RoundDown(Clamp(L1Bytes / 2 / (nr * sizeof(float)), 64, 512), 8);
        int mc = RoundDown(Clamp(L2Bytes / 2 / (kc * sizeof(float)), mr, 256), mr);
        int nc = RoundDown(Clamp(L3BytesPerCore / 2 / (kc * sizeof(float)), nr, 4096), nr);
        return new CpuBlocking(isa, lanes, mr, nr, kc, mc, nc);
    }

    private static int Clamp(int value, int min, int max) => value < min ? min : value > max ? max : value;

    private static int RoundDown(int value, int multiple) => value / multiple * multiple;

    /// <summary><c>kd_gemm_</c> and the qualified class name with every non-identifier character as '_'.</summary>
    private static string EntryPoint(KernelIdentity kernel)
    {
        var name = new StringBuilder("kd_gemm_");
        foreach (char c in kernel.QualifiedName)
        {
            name.Append(char.IsLetterOrDigit(c) && c < 128 ? c : '_');
        }
        return name.ToString();
    }
}
