using System;
using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics.X86;
using System.Threading.Tasks;

namespace KernelDsl.Cpu;

/// <summary>
/// One CPU GEMM call in flight: BLIS's five loops around <typeparamref name="TKernel"/>'s microkernel.
/// <code>
/// for jc in Nc panels of C's columns
///   for pc in Kc blocks of K
///     pack B[pc block, jc panel] into Nr-column slivers   ┐ one parallel loop over slivers
///     (shared A only) pack A[all rows, pc block]          ┘
///     parallel over tasks = (Mc block of rows) × (chunk of Nr slivers)
///       (own A only) pack A[ic block, pc block] into Mr-row slivers
///       for jr in the chunk's slivers        (the B sliver stays in L1)
///         for ir in the block's Mr slivers   (the A block stays in L2)
///           microkernel: Mr×Nr tile of C
/// </code>
/// Who packs A is <see cref="CpuGemmShape.SharesPackedA"/>: when each row block is one task, that task packs its
/// block itself, as BLIS's ic loop does, so the block goes from A into this core's L2 and is used from there
/// instead of being written to L3 and read back; when row blocks are split into chunks, their tasks share one
/// packing of all rows, done with B's.
/// The microkernel works on an fp32 "work" matrix: C itself when C is float, else a workspace
/// holding one panel of C in fp32, which a tile enters converted from C when the first K block
/// reads it (β ≠ 0) and leaves rounded to C after the last. Which case applies is a JIT-time
/// constant of <typeparamref name="TOutput"/>, so the fp32 path carries no conversion code.
/// The operands are pinned by the caller and held here as addresses, since the loop bodies run as
/// delegates on the thread pool and cannot capture spans.
/// </summary>
internal sealed unsafe class CpuGemmJob<TKernel, TInput, TOutput>
    where TKernel : ICpuGemmKernel<TInput>
    where TInput : unmanaged
    where TOutput : unmanaged
{
    private readonly CpuGemmShape shape;
    private readonly GemmArguments args;
    private readonly TInput* a, b;
    private readonly TOutput* c;
    private readonly float* bias, packedA, packedB, work;
    private readonly int ldw;
    private readonly Action<int> packSliver, computeTask;

    // The current panel and block, set before each parallel loop.
    private int panelColumn, panelColumns, panelSlivers, chunkSize, chunks;
    private int depthStart, depth;
    private float alpha, beta;
    private bool firstBlock, lastBlock;
    private float* workPanel;

    /// <summary>C is not float: the microkernel works on the fp32 workspace and tiles are converted in and out.</summary>
    private static bool ConvertsC => typeof(TOutput) != typeof(float);

    /// <param name="shape">Blocking of this call.</param>
    /// <param name="args">Validated arguments.</param>
    /// <param name="a">Pinned A.</param>
    /// <param name="b">Pinned B.</param>
    /// <param name="c">Pinned C.</param>
    /// <param name="bias">Pinned bias as floats, or null when the kernel has none.</param>
    /// <param name="packedA">Pinned buffer of <see cref="CpuGemmShape.PackedALength"/> elements: A shared by the tasks of a split row block.</param>
    /// <param name="packedB">Pinned buffer of <see cref="CpuGemmShape.PackedBLength"/> elements.</param>
    /// <param name="work">C itself when it is float, else a pinned workspace of <see cref="CpuGemmShape.WorkspaceLength"/> floats.</param>
    public CpuGemmJob(CpuGemmShape shape, GemmArguments args, TInput* a, TInput* b, TOutput* c, float* bias, float* packedA, float* packedB, float* work)
    {
        this.shape = shape;
        this.args = args;
        this.a = a;
        this.b = b;
        this.c = c;
        this.bias = bias;
        this.packedA = packedA;
        this.packedB = packedB;
        this.work = work;
        // The workspace holds one panel; C as float is its own work matrix.
        ldw = ConvertsC ? shape.PanelWidth : args.Ldc;
        packSliver = PackSliver;
        computeTask = ComputeTask;
    }

    public void Execute()
    {
        for (panelColumn = 0; panelColumn < shape.N; panelColumn += shape.Nc)
        {
            panelColumns = Math.Min(shape.Nc, shape.N - panelColumn);
            panelSlivers = CpuGemmShape.CeilDiv(panelColumns, shape.Nr);
            (chunkSize, chunks) = shape.SplitPanel(panelSlivers);
            workPanel = ConvertsC ? work : work + panelColumn;

            // K = 0 still makes one (empty) block, so the epilogue C ← act(β·C + bias) runs.
            for (depthStart = 0; ; depthStart += shape.Kc)
            {
                depth = Math.Min(shape.Kc, shape.K - depthStart);
                firstBlock = depthStart == 0;
                lastBlock = depthStart + depth >= shape.K;
                // The first block applies the user's β (0: C is not read); later ones accumulate.
                alpha = args.ProductScale;
                beta = firstBlock ? args.Beta : 1f;

                if (depth > 0)
                {
                    For(panelSlivers + (shape.SharesPackedA ? shape.ASlivers : 0), packSliver);
                }
                For(shape.RowBlocks * chunks, computeTask);
                if (lastBlock)
                {
                    break;
                }
            }
        }
    }

    private void For(int count, Action<int> body)
    {
        if (shape.Workers == 1 || count == 1)
        {
            for (int i = 0; i < count; i++)
            {
                body(i);
            }
        }
        else
        {
            Parallel.For(0, count, body);
        }
    }

    /// <summary>Slivers 0 … panelSlivers − 1 are B's, the rest (with a shared A) A's.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void PackSliver(int sliver)
    {
        if (sliver < panelSlivers)
        {
            int column = sliver * shape.Nr;
            TKernel.PackB(
                in *b, args.Ldb,
                panelColumn + column, Math.Min(shape.Nr, panelColumns - column),
                depthStart, depth,
                ref packedB[(nint)column * depth]);
        }
        else
        {
            PackA(packedA, 0, (sliver - panelSlivers) * shape.Mr);
        }
    }

    /// <summary>Packs the Mr rows of A from <paramref name="row"/> into the sliver of <paramref name="block"/>, whose first row is <paramref name="firstRow"/>.</summary>
    private void PackA(float* block, int firstRow, int row)
        => TKernel.PackA(in *a, args.Lda, row, Math.Min(shape.Mr, shape.M - row), depthStart, depth, ref block[(nint)(row - firstRow) * depth]);

    /// <summary>One Mc block of rows times one chunk of the panel's Nr slivers.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void ComputeTask(int task)
    {
        int rowStart = task / chunks * shape.Mc;
        int rowEnd = Math.Min(shape.M, rowStart + shape.Mc);
        int sliverStart = task % chunks * chunkSize;
        int sliverEnd = Math.Min(panelSlivers, sliverStart + chunkSize);
        if (shape.SharesPackedA)
        {
            ComputeBlock(packedA + (nint)rowStart * depth, rowStart, rowEnd, sliverStart, sliverEnd);
            return;
        }
        // The pool hands a thread back the array it returned last, so the block is packed into memory already in L2.
        float[] block = ArrayPool<float>.Shared.Rent(shape.PackedABlockLength);
        try
        {
            fixed (float* ownA = block)
            {
                for (int row = rowStart; row < rowEnd; row += shape.Mr)
                {
                    PackA(ownA, rowStart, row);
                }
                ComputeBlock(ownA, rowStart, rowEnd, sliverStart, sliverEnd);
            }
        }
        finally
        {
            ArrayPool<float>.Shared.Return(block);
        }
    }

    /// <summary>Rows <paramref name="rowStart"/>…<paramref name="rowEnd"/> (packed at <paramref name="aBlock"/>) times the panel's slivers <paramref name="sliverStart"/>…<paramref name="sliverEnd"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void ComputeBlock(float* aBlock, int rowStart, int rowEnd, int sliverStart, int sliverEnd)
    {
        for (int sliver = sliverStart; sliver < sliverEnd; sliver++)
        {
            int column = sliver * shape.Nr;
            int columns = Math.Min(shape.Nr, panelColumns - column);
            float* bSliver = packedB + (nint)column * depth;
            float* workColumn = workPanel + column;
            float* biasColumn = bias == null ? null : bias + panelColumn + column;
            for (int row = rowStart; row < rowEnd; row += shape.Mr)
            {
                int rows = Math.Min(shape.Mr, shape.M - row);
                float* aSliver = aBlock + (nint)(row - rowStart) * depth;
                float* tile = workColumn + (nint)row * ldw;
                TOutput* cTile = c + (nint)row * args.Ldc + panelColumn + column;
                if (ConvertsC && firstBlock && args.Beta != 0f)
                {
                    ConvertTile(cTile, args.Ldc, tile, ldw, rows, columns);
                }
                if (rows == shape.Mr && columns == shape.Nr)
                {
                    PrefetchTile(tile);
                    TKernel.MicroKernel(depth, in *aSliver, in *bSliver, ref *tile, ldw, in *biasColumn, alpha, beta, lastBlock);
                }
                else
                {
                    EdgeTile(aSliver, bSliver, tile, rows, columns, biasColumn);
                }
                if (ConvertsC && lastBlock)
                {
                    ConvertTile(tile, ldw, cTile, args.Ldc, rows, columns);
                }
            }
        }
    }

    /// <summary>
    /// Starts fetching a tile of C into L1 before the microkernel's k loop, which then hides the
    /// latency: C is far larger than the caches and every K block reads and writes all of it.
    /// Done here, where the tile's address is a pointer, rather than in the microkernels, which take references.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void PrefetchTile(float* tile)
    {
        if (Sse.IsSupported)
        {
            for (int i = 0; i < shape.Mr; i++)
            {
                float* row = tile + (nint)i * ldw;
                for (int j = 0; j < shape.Nr; j += 16)
                {
                    Sse.Prefetch0(row + j);
                }
                Sse.Prefetch0(row + shape.Nr - 1);
            }
        }
    }

    /// <summary>
    /// A tile cut by the edge of C: the microkernel runs on a zero-filled Mr×Nr copy (the work tile's
    /// valid part copied in only when β reads it, the bias zero-padded), and the valid part is copied out.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void EdgeTile(float* aSliver, float* bSliver, float* tile, int rows, int columns, float* biasColumn)
    {
        int mr = shape.Mr, nr = shape.Nr;
        Span<float> scratch = mr * nr <= 4096 ? stackalloc float[mr * nr] : new float[mr * nr];
        Span<float> scratchBias = nr <= 1024 ? stackalloc float[nr] : new float[nr];
        if (beta != 0f)
        {
            for (int i = 0; i < rows; i++)
            {
                new ReadOnlySpan<float>(tile + (nint)i * ldw, columns).CopyTo(scratch.Slice(i * nr));
            }
        }
        if (biasColumn != null)
        {
            new ReadOnlySpan<float>(biasColumn, columns).CopyTo(scratchBias);
        }
        TKernel.MicroKernel(depth, in *aSliver, in *bSliver, ref scratch[0], nr, in scratchBias[0], alpha, beta, lastBlock);
        for (int i = 0; i < rows; i++)
        {
            scratch.Slice(i * nr, columns).CopyTo(new Span<float>(tile + (nint)i * ldw, columns));
        }
    }

    /// <summary>
    /// Converts a <paramref name="rows"/>×<paramref name="columns"/> tile between C and the fp32
    /// workspace: widening C when the first K block reads it, rounding to nearest even when the tile is final.
    /// </summary>
    private static void ConvertTile<TFrom, TTo>(TFrom* from, int ldFrom, TTo* to, int ldTo, int rows, int columns)
        where TFrom : unmanaged
        where TTo : unmanaged
    {
        for (int i = 0; i < rows; i++)
        {
            var source = new ReadOnlySpan<TFrom>(from + (nint)i * ldFrom, columns);
            var destination = new Span<TTo>(to + (nint)i * ldTo, columns);
            if (typeof(TFrom) == typeof(float))
            {
                CpuConvert.FromSingle(MemoryMarshal.Cast<TFrom, float>(source), destination);
            }
            else
            {
                CpuConvert.ToSingle(source, MemoryMarshal.Cast<TTo, float>(destination));
            }
        }
    }
}
