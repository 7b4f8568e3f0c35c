using System;
using KernelDsl.Generator.Diagnostics;
using KernelDsl.Generator.Model;
using KernelDsl.Generator.Parsing;
using KernelDsl.Generator.Validation;

namespace KernelDsl.Generator.Planning;

/// <summary>
/// Derives a <see cref="GemmPlan"/> from a validated <see cref="GemmSpec"/>, or the diagnostics that say why the
/// requested tiling does not exist: every tiling decision and every check of it is made here, once.
/// </summary>
internal static class GemmPlanner
{
    /// <summary>
    /// Registers a CUDA-core thread needs beside its accumulators, at least: addresses, loop state, copy offsets and
    /// the float4 operands in flight (ptxas allocates 66–82 more for the kernels the tests compile).
    /// </summary>
    private const int SimtFixedRegisters = 56;

    /// <summary>
    /// The same for a tensor-core thread, whose A and B fragments of a K step stay live: ptxas allocates 62–102 more
    /// than the accumulators, and a 128×256 tile over 8×2 warps (64 accumulators, 126 registers on sm_80) already
    /// spills on sm_90 within 512 threads' 128.
    /// </summary>
    private const int MmaFixedRegisters = 72;

    /// <summary>Validation guarantees positive sizes within range, a warp grid of at most 32 warps and defined enums.</summary>
    public static Planned<GemmPlan> Plan(GemmSpec spec)
    {
        var found = new Findings();
        var where = spec.TileLocation ?? spec.WarpsLocation ?? spec.GemmLocation;
        bool tensorCores = UsesTensorCores(spec.Operands);
        // Tensor cores split a tile in 16-row and 16-column MMA blocks, so a useful suggestion is a multiple of 16 warps' worth.
        int unit = tensorCores ? 16 : 1;
        found.Divides("M", spec.Tile.M, spec.Warps.M, unit, where);
        found.Divides("N", spec.Tile.N, spec.Warps.N, unit, where);
        if (found.Count > 0)
        {
            return Planned<GemmPlan>.Rejected(found);
        }

        int warpTileM = spec.Tile.M / spec.Warps.M, warpTileN = spec.Tile.N / spec.Warps.N;
        CudaGemmPlan? cuda = tensorCores ? PlanMma(spec, warpTileM, warpTileN, found) : PlanSimt(spec, warpTileM, warpTileN, found);
        if (cuda is null)
        {
            return Planned<GemmPlan>.Rejected(found);
        }
        long total = (long)cuda.SharedBytesPerStage * spec.Stages;
        int limit = ArchitectureLimits.MaxSharedBytesPerBlock(ArchitectureLimits.PlannedArch);
        if (total > limit)
        {
            found.Add(DiagnosticDescriptors.SharedMemoryOverLimit, spec.PipelineLocation ?? where, total,
                $"{spec.Stages} stages × {cuda.SharedBytesPerStage} bytes", limit, ArchitectureLimits.PlannedArch, "reduce Pipeline.Stages or the tile");
            return Planned<GemmPlan>.Rejected(found);
        }

        return Planned<GemmPlan>.Of(new GemmPlan(
            spec.Kernel,
            EntryPointName.For("kd_gemm_", spec.Kernel),
            spec.Operands,
            spec.Epilogue,
            cuda,
            PlanHopper(spec)));
    }

    /// <summary>
    /// The sm_90a kernel, or none when wgmma cannot take the tile as it is: operands both K-major (A stored M×K, B stored
    /// N×K; wgmma reads 16-bit operands from shared memory K-major, and a transposing TMA copy does not exist), TileM whole
    /// 64-row wgmma blocks over one or two consumer warpgroups (two once there are two blocks; at most two blocks each),
    /// TileN a wgmma N (a multiple of 8 up to 256, which is also the TMA box limit) and the accumulators within 128 a
    /// thread (the consumer's 232 registers hold them and the addressing). The sm_80 kernel serves every other case, on
    /// Hopper too. TileK and Stages are the sm_80 kernel's, but at least two stages: a consumer releases a slice's stage
    /// only after it has issued the next slice's wgmmas, so one stage would wait on itself. The stages must fit sm_90's
    /// shared memory with the mbarriers and the alignment slack.
    /// </summary>
    private static HopperGemmPlan? PlanHopper(GemmSpec spec)
    {
        var o = spec.Operands;
        var tile = spec.Tile;
        if (!UsesTensorCores(o) || o.TransposeA || !o.TransposeB || tile.M % HopperGemmPlan.WgmmaM != 0 || tile.N % 8 != 0 || tile.N > 256)
        {
            return null;
        }
        int blocks = tile.M / HopperGemmPlan.WgmmaM;
        int consumers = blocks == 1 ? 1 : 2;
        int perConsumer = blocks / consumers;
        if (blocks % consumers != 0 || perConsumer > 2 || perConsumer * tile.N / 2 > 128)
        {
            return null;
        }
        int boxK = tile.K % 64 == 0 ? 64 : tile.K % 32 == 0 ? 32 : 16;
        var plan = new HopperGemmPlan(
            EntryPointName.For("kd_gemm_sm90a_", spec.Kernel), tile.M, tile.N, tile.K, Math.Max(spec.Stages, 2), consumers, perConsumer, boxK);
        return plan.SharedBytes <= ArchitectureLimits.MaxSharedBytesPerBlock(90) ? plan : null;
    }

    /// <summary>16-bit operands go to tensor cores; fp32 stays on CUDA cores (tf32 would change the numerics).</summary>
    public static bool UsesTensorCores(GemmOperands operands) => operands.Element is Element.F16 or Element.BF16;

    /// <summary>
    /// CUDA cores: a lane split of the warp tile (<see cref="ThreadTile"/>) whose registers fit the block's budget.
    /// Lane blocks with float4 sides load their operands as vectors; other sides load every element on its own,
    /// and the fully unrolled K step keeps about three quarters of its (M + N)·Tile.K operands live.
    /// </summary>
    private static SimtGemmPlan? PlanSimt(GemmSpec spec, int warpTileM, int warpTileN, Findings found)
    {
        var where = spec.TileLocation ?? spec.WarpsLocation ?? spec.GemmLocation;
        var lanes = ThreadTile.Find(warpTileM, warpTileN);
        if (lanes is null)
        {
            int area = warpTileM * warpTileN;
            string why = area % 32 != 0
                ? $"its {area} elements are not a multiple of 32; make the warp tile larger or use fewer warps"
                : area / 32 > ThreadTile.MaxAccumulators
                    ? $"each thread would hold {area / 32} accumulators; use more warps or a smaller tile"
                    : $"no power-of-two grid of lanes gives each one a block with sides of at most {ThreadTile.MaxSide}; use power-of-two tile sides";
            found.Add(DiagnosticDescriptors.ThreadTileNotExpressible, where, warpTileM, warpTileN, ThreadTile.MaxAccumulators, why);
            return null;
        }
        int accumulators = lanes.M * lanes.N;
        bool vector = lanes.M % 4 == 0 && lanes.N % 4 == 0;
        int operands = vector ? 0 : 3 * (lanes.M + lanes.N) * spec.Tile.K / 4;
        if (!found.RegistersFit(accumulators + SimtFixedRegisters + operands, spec.Warps.Count * 32, warpTileM, warpTileN, where,
                vector ? $"{accumulators} accumulators" : $"{accumulators} accumulators and {operands} operands of its {lanes.M}×{lanes.N} scalar lane block"))
        {
            return null;
        }
        var (a, b) = Copies(spec);
        return new SimtGemmPlan(
            spec.Tile.M, spec.Tile.N, spec.Tile.K, spec.Warps.M, spec.Warps.N, spec.Stages,
            lanes.LanesM, lanes.LanesN, lanes.M, lanes.N, a, b);
    }

    /// <summary>
    /// Tensor cores: a warp tile is whole 16×16 blocks (16×8 MMA tiles, B fragments loaded in pairs), the K tile whole
    /// 16-deep MMA steps, and the accumulators (warp tile / 32 per thread) fit the register budget.
    /// </summary>
    private static MmaGemmPlan? PlanMma(GemmSpec spec, int warpTileM, int warpTileN, Findings found)
    {
        var where = spec.TileLocation ?? spec.WarpsLocation ?? spec.GemmLocation;
        if (warpTileM % 16 != 0 || warpTileN % 16 != 0)
        {
            found.Add(DiagnosticDescriptors.WarpTileNotMmaMultiple, where, warpTileM, warpTileN, spec.Tile.M, spec.Tile.N, spec.Warps.M, spec.Warps.N);
        }
        if (spec.Tile.K % 16 != 0)
        {
            found.Add(DiagnosticDescriptors.TileKNotMmaMultiple, where, spec.Tile.K);
        }
        if (found.Count > 0)
        {
            return null;
        }
        int accumulators = warpTileM * warpTileN / 32;
        if (accumulators > ThreadTile.MaxAccumulators)
        {
            found.Add(DiagnosticDescriptors.ThreadTileNotExpressible, where, warpTileM, warpTileN, ThreadTile.MaxAccumulators,
                $"each thread would hold {accumulators} accumulators; use more warps or a smaller tile");
            return null;
        }
        if (!found.RegistersFit(accumulators + MmaFixedRegisters, spec.Warps.Count * 32, warpTileM, warpTileN, where, $"{accumulators} accumulators"))
        {
            return null;
        }
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
        => (MmaOperand("A", contiguousAlongK: !spec.Operands.TransposeA, extent: spec.Tile.M, spec.Tile.K, spec.Warps.Count * 32),
            MmaOperand("B", contiguousAlongK: spec.Operands.TransposeB, extent: spec.Tile.N, spec.Tile.K, spec.Warps.Count * 32));

    /// <summary>
    /// Tensor-core shared tiles keep the global layout in 16-byte chunks (8 elements), swizzled by <see cref="ChunkSwizzle"/>;
    /// the copy takes fixed passes (<see cref="Planning.MmaOperand.CopyRows"/>) when the block's threads divide the tile so.
    /// </summary>
    public static MmaOperand MmaOperand(string name, bool contiguousAlongK, int extent, int tileK, int threads)
    {
        int rows = contiguousAlongK ? extent : tileK;
        int chunks = (contiguousAlongK ? tileK : extent) / 8;
        var swizzle = ChunkSwizzle.For(chunks);
        int copyRows = threads % chunks == 0 ? threads / chunks : 0;
        bool fixedPasses = copyRows > 0 && copyRows % (swizzle.Span * swizzle.RowGroup) == 0 && rows % copyRows == 0;
        return fixedPasses
            ? new MmaOperand(name, contiguousAlongK, rows, chunks, swizzle.Span, swizzle.RowGroup, copyRows, rows / copyRows)
            : new MmaOperand(name, contiguousAlongK, rows, chunks, swizzle.Span, swizzle.RowGroup, 0, 0);
    }
}
