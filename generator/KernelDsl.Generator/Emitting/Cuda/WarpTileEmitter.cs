using KernelDsl.Generator.Planning;

namespace KernelDsl.Generator.Emitting.Cuda;

/// <summary>
/// Prints the parts of a GEMM kernel that depend on how a warp computes its tile: constants, the
/// global → shared copies, the multiply of one shared stage and the walk over the accumulators.
/// <see cref="CudaGemmEmitter"/> prints everything around them.
/// </summary>
internal abstract class WarpTileEmitter
{
    public static WarpTileEmitter For(GemmPlan plan) => plan.Cuda switch
    {
        MmaGemmPlan mma => new MmaWarpTileEmitter(mma, plan.Operands.Element),
        SimtGemmPlan simt => new SimtWarpTileEmitter(simt),
        _ => throw new System.ArgumentException("unknown CUDA plan " + plan.Cuda.GetType().Name),
    };

    /// <summary>"CUDA cores (SIMT)" or "tensor cores (mma.sync)", for the header.</summary>
    public abstract string Units { get; }

    public abstract void DescribeWarp(CodeWriter w);

    public abstract void DescribeSharedMemory(CodeWriter w);

    public abstract void Constants(CodeWriter w);

    /// <summary>The <see cref="PtxPrelude"/> groups the warp's math calls, beyond cp.async and the output conversions.</summary>
    public abstract PtxHelpers PtxHelpers { get; }

    public abstract void DeviceFunctions(CodeWriter w);

    /// <summary>Per-thread indices computed once (after tid, lane, warp_m, warp_n).</summary>
    public abstract void LaneSetup(CodeWriter w);

    /// <summary>Inside <c>load_tile</c>: the copies of one operand's slice (As/Bs, k0 in scope).</summary>
    public abstract void CopyOperand(CodeWriter w, CudaGemmPlan plan, char operand);

    public abstract void DeclareAccumulators(CodeWriter w);

    /// <summary>Inside the K loop: multiply the stage at As/Bs into the accumulators.</summary>
    public abstract void MultiplyStage(CodeWriter w);

    /// <summary>Writes every accumulator through the epilogue (<c>store_c</c>, or <c>epilogue</c> on vectors); <paramref name="bias"/>: the kernel has a bias.</summary>
    public abstract void StoreAccumulators(CodeWriter w, bool bias);

    /// <summary>Names an operand's non-K axis in the kernel: A → m, M, block_m, lda; B → n, N, block_n, ldb.</summary>
    protected readonly record struct Axis(char Operand)
    {
        public string Index => Operand == 'A' ? "m" : "n";

        public string Bound => Operand == 'A' ? "M" : "N";

        public string Origin => Operand == 'A' ? "block_m" : "block_n";

        public string Ld => Operand == 'A' ? "lda" : "ldb";

        public string Extent => Operand == 'A' ? "BM" : "BN";

        public string Shared => Operand + "s";
    }
}
