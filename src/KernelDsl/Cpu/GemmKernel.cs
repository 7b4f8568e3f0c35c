namespace KernelDsl.Cpu;

/// <summary>
/// One CPU GEMM as the driver runs it: the microkernel of one vector width, the packing of each operand's layout,
/// the kernel's epilogue and this machine's blocking for that width. Composed by <see cref="CpuGemm"/> from the type
/// arguments a generated <c>Run</c> passes; the JIT compiles the driver once per composition, with every call bound.
/// </summary>
internal readonly struct GemmKernel<TMicro, TLayoutA, TLayoutB, TEpilogue, TInput> : ICpuGemmKernel<TInput>
    where TMicro : IGemmMicroKernel
    where TLayoutA : IOperandLayout
    where TLayoutB : IOperandLayout
    where TEpilogue : IGemmEpilogue
    where TInput : unmanaged
{
    private static readonly CpuBlocking Blocking = CpuGemm.BlockingFor<TMicro>();

    public static int Mr => TMicro.Mr;

    public static int Nr => TMicro.Nr;

    public static int Kc => Blocking.Kc;

    public static int Mc => Blocking.Mc;

    public static int Nc => Blocking.Nc;

    public static void PackA(ref readonly TInput a, int lda, int row0, int rows, int p0, int depth, ref float packed)
        => TLayoutA.PackA(in a, lda, row0, rows, p0, depth, ref packed, TMicro.Mr);

    public static void PackB(ref readonly TInput b, int ldb, int col0, int cols, int p0, int depth, ref float packed)
        => TLayoutB.PackB(in b, ldb, col0, cols, p0, depth, ref packed, TMicro.Nr);

    public static void MicroKernel(int depth, ref readonly float packedA, ref readonly float packedB, ref float c, int ldc, ref readonly float bias, float alpha, float beta, bool lastBlock)
        => TMicro.Compute<TEpilogue>(depth, in packedA, in packedB, ref c, ldc, in bias, alpha, beta, lastBlock);
}
