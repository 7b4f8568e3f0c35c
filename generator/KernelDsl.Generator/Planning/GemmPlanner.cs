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
        EntryPointName.For("kd_gemm_", spec.Kernel),
        spec.Operands,
        spec.Epilogue,
        UsesTensorCores(spec.Operands) ? PlanMma(spec) : PlanSimt(spec),
        new[] { PlanCpu(CpuIsa.Vector512), PlanCpu(CpuIsa.Vector256), PlanCpu(CpuIsa.Vector128), PlanCpu(CpuIsa.Scalar) }.ToEquatableArray());

    /// <summary>16-bit operands go to tensor cores; fp32 stays on CUDA cores (tf32 would change the numerics).</summary>
    public static bool UsesTensorCores(GemmOperands operands) => operands.Element is Element.F16 or Element.BF16;

    /// <summary>Shared memory of one pipeline stage; validation uses it before a plan exists.</summary>
    public static long SharedBytesPerStage(GemmSpec spec)
    {
        if (UsesTensorCores(spec.Operands))
        {
            var (a, b) = MmaOperands(spec);
            return ((long)a.Rows * a.Chunks + (long)b.Rows * b.Chunks) * 16;
        }
        var (copyA, copyB) = Copies(spec);
        return SimtGemmPlan.SharedBytesPerStageOf(spec.Tile.M, spec.Tile.N, spec.Tile.K, copyA, copyB);
    }

    /// <summary>Validation guarantees the warp grid divides the tile and a lane tile exists.</summary>
    private static SimtGemmPlan PlanSimt(GemmSpec spec)
    {
        var lanes = ThreadTile.Find(spec.Tile.M / spec.Warps.M, spec.Tile.N / spec.Warps.N)!;
        var (a, b) = Copies(spec);
        return new SimtGemmPlan(
            spec.Tile.M, spec.Tile.N, spec.Tile.K, spec.Warps.M, spec.Warps.N, spec.Stages,
            lanes.LanesM, lanes.LanesN, lanes.M, lanes.N, a, b);
    }

    /// <summary>Validation guarantees warp tiles are multiples of 16×16 and TileK of 16.</summary>
    private static MmaGemmPlan PlanMma(GemmSpec spec)
    {
        var (a, b) = MmaOperands(spec);
        return new MmaGemmPlan(spec.Tile.M, spec.Tile.N, spec.Tile.K, spec.Warps.M, spec.Warps.N, spec.Stages, a, b);
    }

    private static (OperandCopy A, OperandCopy B) Copies(GemmSpec spec)
        => (Copy("A", contiguousAlongK: !spec.Operands.TransposeA, extent: spec.Tile.M),
            Copy("B", contiguousAlongK: spec.Operands.TransposeB, extent: spec.Tile.N));

    /// <summary>
    /// SIMT shared memory is K-major. An operand whose stored rows run along M (or N) lands row for row,
    /// four elements per 16-byte copy, when the tile's extent is a multiple of 4; otherwise every
    /// element is its own 4-byte copy, which also transposes a K-contiguous operand (padded rows).
    /// </summary>
    private static OperandCopy Copy(string name, bool contiguousAlongK, int extent)
        => new(name, contiguousAlongK, !contiguousAlongK && extent % 4 == 0 ? 4 : 1, contiguousAlongK ? 4 : 0);

    private static (MmaOperand A, MmaOperand B) MmaOperands(GemmSpec spec)
        => (MmaOperand("A", contiguousAlongK: !spec.Operands.TransposeA, extent: spec.Tile.M, spec.Tile.K),
            MmaOperand("B", contiguousAlongK: spec.Operands.TransposeB, extent: spec.Tile.N, spec.Tile.K));

    /// <summary>Tensor-core shared tiles keep the global layout in 16-byte chunks (8 elements), swizzled by <see cref="ChunkSwizzle"/>.</summary>
    private static MmaOperand MmaOperand(string name, bool contiguousAlongK, int extent, int tileK)
    {
        int rows = contiguousAlongK ? extent : tileK;
        int chunks = (contiguousAlongK ? tileK : extent) / 8;
        var swizzle = ChunkSwizzle.For(chunks);
        return new MmaOperand(name, contiguousAlongK, rows, chunks, swizzle.Span, swizzle.RowGroup);
    }

    /// <summary>
    /// BLIS blocking. The microkernel keeps Mr×Nr accumulators in registers: Mr rows of Nr/lanes
    /// vectors, using about half the vector registers for accumulators so the B vectors and the A
    /// broadcast fit beside them (32 registers with AVX-512 and NEON, 16 with AVX2 and SSE).
    /// Kc: deep enough that the load and store of each C tile, once per Kc steps of k, and the two parallel loops
    /// per K block are small next to the FMAs; a Kc×Nr sliver of packed B of one and a half L1 (Kc = 384 with
    /// AVX-512) is re-read from L1 and L2 for each A sliver, which L2's bandwidth sustains. (One L1, Kc = 256: 0.90
    /// of OpenBLAS at n = 2048 and 4096, since C no longer fits in L3 there and every K block reloads it; with
    /// 384, 0.95–1.0. Half an L1, Kc = 128: 0.88 at n = 256–512. docs/PERFORMANCE_NOTES.md.)
    /// Mc: an Mc×Kc block of packed A stays in half of L2 while the Nr-column slivers of B stream past (the
    /// runtime then evens the row blocks out, <c>CpuGemmShape</c>).
    /// Nc: a Kc×Nc panel of packed B fits the L3 shares of two cores, the fewest a parallel call runs on (every
    /// core reads the whole panel); Nc = 4096 packs B once per K block up to n = 4096 (with 2048: 0.89–0.91
    /// of OpenBLAS at n = 4096, with 4096: 0.96–1.00).
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
        int kc = RoundDown(Clamp(3 * L1Bytes / (2 * nr * sizeof(float)), 64, 512), 8);
        int mc = RoundDown(Clamp(L2Bytes / 2 / (kc * sizeof(float)), mr, 512), mr);
        int nc = RoundDown(Clamp(2 * L3BytesPerCore / (kc * sizeof(float)), nr, 4096), nr);
        return new CpuBlocking(isa, lanes, mr, nr, kc, mc, nc);
    }

    private static int Clamp(int value, int min, int max) => value < min ? min : value > max ? max : value;

    private static int RoundDown(int value, int multiple) => value / multiple * multiple;
}
