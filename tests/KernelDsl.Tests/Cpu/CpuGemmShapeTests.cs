using KernelDsl.Cpu;
using Xunit;

namespace KernelDsl.Tests.Cpu;

/// <summary>How the driver splits work: enough tasks per core when the problem allows, never more than it has; buffer sizes.</summary>
public sealed class CpuGemmShapeTests
{
    private static CpuGemmShape Shape(int m, int workers) => new(m, 1000, 1000, Mr: 8, Nr: 32, Kc: 128, Mc: 256, Nc: 4096, Workers: workers);

    [Theory]
    [InlineData(1000, 2, 32)]   // 4 row blocks × 2 chunks of 16 slivers
    [InlineData(100, 2, 32)]    // 1 row block × 8 chunks of 4 slivers
    [InlineData(100, 16, 32)]   // wants 64 tasks, has 32 slivers: one sliver per task
    [InlineData(100, 2, 3)]     // fewer slivers than wanted tasks
    public void SplitGivesEachWorkerTasks(int m, int workers, int slivers)
    {
        var shape = Shape(m, workers);
        var (chunkSize, chunks) = shape.SplitPanel(slivers);
        Assert.True(chunkSize * chunks >= slivers, "every sliver is in a chunk");
        Assert.True((chunks - 1) * chunkSize < slivers, "no empty chunk");
        int tasks = shape.RowBlocks * chunks;
        Assert.True(tasks >= System.Math.Min(workers * CpuGemmShape.TasksPerWorker, shape.RowBlocks * slivers),
            $"{tasks} tasks for {workers} workers");
    }

    [Theory]
    [InlineData(1024, 336, 256)]   // 4 blocks of 256, not 336 + 336 + 336 + 16
    [InlineData(2048, 336, 296)]   // 7 blocks: 6 of 296 and one of 272
    [InlineData(336, 336, 336)]    // one whole block
    [InlineData(100, 336, 104)]    // one block, rounded up to whole register tiles
    [InlineData(0, 336, 8)]        // no rows: still a valid block size
    public void RowBlocksAreEven(int m, int mc, int expected)
    {
        int block = CpuGemmShape.EvenRowBlock(m, mc, mr: 8);
        Assert.Equal(expected, block);
        Assert.Equal(0, block % 8);
        Assert.True(block <= mc, "never larger than the planned block");
        Assert.Equal(System.Math.Max(1, CpuGemmShape.CeilDiv(m, mc)), System.Math.Max(1, CpuGemmShape.CeilDiv(m, block)));
    }

    [Fact]
    public void PackedBuffersHoldOneKBlockOfARowBlockAndOfAPanel()
    {
        var shape = Shape(1000, 2);
        Assert.Equal(256 * 128, shape.PackedABlockLength);
        Assert.Equal(32 * 32 * 128, shape.PackedBLength);
        Assert.Equal(1, (shape with { K = 0 }).PackedABlockLength);
    }

    /// <summary>
    /// Row blocks split into chunks (4 blocks for 2 workers wanting 8 tasks) share one packing of every row of A;
    /// blocks that are one task each (4 blocks for 1 worker) are packed by their task, and no shared buffer is needed.
    /// </summary>
    [Fact]
    public void SplitRowBlocksShareOnePackingOfA()
    {
        var split = Shape(1000, 2);
        Assert.True(split.SharesPackedA);
        Assert.Equal(125 * 8 * 128, split.PackedALength);
        Assert.Equal(1, (split with { K = 0 }).PackedALength);
        var whole = Shape(1000, 1);
        Assert.False(whole.SharesPackedA);
        Assert.Equal(1, whole.PackedALength);
    }

    /// <summary>A 16-bit C accumulates in an fp32 workspace of every row of one panel.</summary>
    [Fact]
    public void WorkspaceHoldsOnePanelOfEveryRow()
    {
        Assert.Equal(1000 * 1000, Shape(1000, 2).WorkspaceLength);
        Assert.Equal(1000 * 4096, (Shape(1000, 2) with { N = 5000 }).WorkspaceLength);
    }
}
