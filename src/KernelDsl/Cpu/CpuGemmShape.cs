using System;

namespace KernelDsl.Cpu;

/// <summary>
/// The blocking of one CPU GEMM call: the kernel's constants made safe to loop with, the packed
/// buffer sizes, whether to use more than one core, and how an Nc panel splits into tasks.
/// </summary>
/// <param name="M">Rows of C.</param>
/// <param name="N">Columns of C.</param>
/// <param name="K">Reduction depth.</param>
/// <param name="Mr">Register tile rows.</param>
/// <param name="Nr">Register tile columns.</param>
/// <param name="Kc">Depth of a packed block (at least 1).</param>
/// <param name="Mc">Rows per task, a multiple of <paramref name="Mr"/>.</param>
/// <param name="Nc">Columns per packed B panel, a multiple of <paramref name="Nr"/>.</param>
/// <param name="Workers">Cores to spread over (1: run inline).</param>
internal readonly record struct CpuGemmShape(int M, int N, int K, int Mr, int Nr, int Kc, int Mc, int Nc, int Workers)
{
    /// <summary>Below this many FLOPs (2·M·N·K) the whole call runs on the calling thread.</summary>
    public const double InlineFlops = 1e6;

    /// <summary>Compute tasks wanted per worker, so uneven tasks still balance.</summary>
    public const int TasksPerWorker = 4;

    public static CpuGemmShape For<TKernel, TInput>(int m, int n, int k)
        where TKernel : ICpuGemmKernel<TInput>
        where TInput : unmanaged
    {
        int mr = TKernel.Mr, nr = TKernel.Nr;
        int workers = 2.0 * m * n * k < InlineFlops ? 1 : Environment.ProcessorCount;
        return new CpuGemmShape(
            m, n, k, mr, nr,
            Kc: Math.Max(1, TKernel.Kc),
            Mc: EvenRowBlock(m, Math.Max(mr, TKernel.Mc / mr * mr), mr),
            Nc: Math.Max(nr, TKernel.Nc / nr * nr),
            Workers: Math.Max(1, workers));
    }

    /// <summary>
    /// Rows per row block: as many blocks as <paramref name="mc"/> rows need, made equal (up to <paramref name="mr"/>),
    /// so that no task gets a sliver of a block: M = 1024 with Mc = 336 runs four blocks of 256, not 3 × 336 + 16.
    /// </summary>
    internal static int EvenRowBlock(int m, int mc, int mr)
    {
        int blocks = Math.Max(1, CeilDiv(m, mc));
        return Math.Max(mr, CeilDiv(CeilDiv(m, blocks), mr) * mr);
    }

    /// <summary>Depth of the deepest K block (0 when K is 0).</summary>
    public int MaxDepth => Math.Min(Kc, K);

    /// <summary>Mr-row slivers covering all M rows.</summary>
    public int ASlivers => CeilDiv(M, Mr);

    /// <summary>
    /// Whether the tasks of a row block share one packing of A, done for all rows before them: when row blocks are split
    /// into chunks of slivers (too few blocks for the workers). Otherwise each task packs its own block into L2. A task
    /// packing a block that other tasks pack too would copy each element once more against only 2·(chunk columns)
    /// FLOPs, at 32 FLOPs a cycle and about one copy: half the time again for a chunk of one 32-column sliver.
    /// </summary>
    public bool SharesPackedA => SplitPanel(CeilDiv(PanelWidth, Nr)).Chunks > 1;

    /// <summary>Elements of the shared packed A: every row of op(A), one K block deep, when <see cref="SharesPackedA"/>; else 1.</summary>
    public int PackedALength => SharesPackedA ? Math.Max(1, checked(ASlivers * Mr * MaxDepth)) : 1;

    /// <summary>Elements of a task's own packed A block: <see cref="Mc"/> rows (whole Mr slivers), one K block deep.</summary>
    public int PackedABlockLength => Math.Max(1, checked(Mc * MaxDepth));

    /// <summary>Elements of the packed B buffer: the widest panel, one K block deep.</summary>
    public int PackedBLength => Math.Max(1, checked(CeilDiv(PanelWidth, Nr) * Nr * MaxDepth));

    /// <summary>Columns of the widest Nc panel.</summary>
    public int PanelWidth => Math.Min(Nc, N);

    /// <summary>Elements of the fp32 workspace a 16-bit C accumulates in: every row of the widest panel, <see cref="PanelWidth"/> apart.</summary>
    public int WorkspaceLength => Math.Max(1, checked(M * PanelWidth));

    /// <summary>Mc-row blocks covering all M rows.</summary>
    public int RowBlocks => CeilDiv(M, Mc);

    /// <summary>
    /// Splits a panel of <paramref name="slivers"/> Nr-column slivers into chunks so that
    /// (row blocks × chunks) gives every worker about <see cref="TasksPerWorker"/> tasks when
    /// there are enough slivers.
    /// </summary>
    /// <param name="slivers">Nr-column slivers in the panel.</param>
    /// <returns>Slivers per chunk and the number of chunks.</returns>
    public (int ChunkSize, int Chunks) SplitPanel(int slivers)
    {
        int wanted = CeilDiv(Workers * TasksPerWorker, RowBlocks);
        int chunks = Math.Clamp(wanted, 1, Math.Max(1, slivers));
        int chunkSize = CeilDiv(slivers, chunks);
        return (chunkSize, CeilDiv(slivers, chunkSize));
    }

    public static int CeilDiv(int value, int divisor) => (value + divisor - 1) / divisor;
}
