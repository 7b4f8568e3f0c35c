using System;
using System.Globalization;
using System.Linq;
using System.Text.RegularExpressions;
using Xunit;
using Xunit.Abstractions;

namespace KernelDsl.Tests.Mpi;

/// <summary>
/// Ring attention over Open MPI: the ring host runs as P processes under <c>mpirun</c> and every rank's rows
/// are compared with float64 attention over the whole sequence; faults and mismatched descriptions end the
/// job with the right exception, exit codes and no result reported as good. Run alone (the faults are
/// timed, and 4 ranks already oversubscribe the CI machine's 2 cores).
/// </summary>
[Collection(nameof(MpiRingTests))]
[CollectionDefinition(nameof(MpiRingTests), DisableParallelization = true)]
public sealed class MpiRingTests(ITestOutputHelper output)
{
    private const double Tolerance = 1e-5;

    /// <summary>Ample for a healthy job (about 2 s here); a hang fails the test instead of stalling the suite.</summary>
    private static readonly TimeSpan JobLimit = TimeSpan.FromSeconds(60);

    [Theory]
    [InlineData(4, "zigzag", true, 256, 2, 2)]
    [InlineData(4, "contiguous", false, 256, 2, 2)]
    [InlineData(4, "striped", true, 200, 1, 1)]
    [InlineData(3, "zigzag", true, 250, 1, 2)]
    [InlineData(3, "contiguous", false, 200, 2, 2)]
    public void EveryRankMatchesFullAttention(int ranks, string layout, bool causal, int sequenceLength, int kvHeads, int buffers)
    {
        string[] arguments =
        [
            "--layout", layout, "--sequence", Invariant(sequenceLength), "--head-dim", "32", "--heads", "2",
            "--kv-heads", Invariant(kvHeads), "--buffers", Invariant(buffers), "--tolerance", Invariant(Tolerance),
            .. causal ? new[] { "--causal" } : [],
        ];
        var job = MpiJob.Run(ranks, arguments, JobLimit);
        output.WriteLine(job.ToString());

        Assert.True(job.ExitCode == 0, $"mpirun failed:\n{job}");
        Assert.Equal(ranks, job.Ranks.Count);
        foreach (var rank in job.Ranks)
        {
            Assert.True(rank.ExitCode == 0 && rank.Result == "ok", $"rank {rank.Rank} did not succeed:\n{job}");
            Assert.Equal(Invariant(rank.Rank), rank.Field("rank"));
            Assert.Equal(Invariant(ranks), rank.Field("size"));
            Assert.Equal("0", rank.Field("unwritten"));
            Assert.InRange(rank.Number("errorO"), 0, Tolerance);
            Assert.InRange(rank.Number("errorLse"), 0, Tolerance);
            Assert.Equal(ranks, rank.Field("steps")!.Split(';').Length);
        }
    }

    /// <summary>The backward pass over MPI: every rank's dQ, dK and dV against the float64 gradients of the whole sequence.</summary>
    [Theory]
    [InlineData(4, "zigzag", true, 256, 1, 2)]
    [InlineData(3, "striped", true, 250, 2, 1)]
    [InlineData(3, "contiguous", false, 200, 2, 2)]
    public void EveryRankMatchesTheFloat64Gradients(int ranks, string layout, bool causal, int sequenceLength, int kvHeads, int buffers)
    {
        string[] arguments =
        [
            "--backward", "--layout", layout, "--sequence", Invariant(sequenceLength), "--head-dim", "32", "--heads", "2",
            "--kv-heads", Invariant(kvHeads), "--buffers", Invariant(buffers), "--tolerance", Invariant(Tolerance),
            .. causal ? new[] { "--causal" } : [],
        ];
        var job = MpiJob.Run(ranks, arguments, JobLimit);
        output.WriteLine(job.ToString());

        Assert.True(job.ExitCode == 0, $"mpirun failed:\n{job}");
        Assert.Equal(ranks, job.Ranks.Count);
        foreach (var rank in job.Ranks)
        {
            Assert.True(rank.ExitCode == 0 && rank.Result == "ok", $"rank {rank.Rank} did not succeed:\n{job}");
            Assert.InRange(rank.Number("errorDQ"), 0, Tolerance);
            Assert.InRange(rank.Number("errorDK"), 0, Tolerance);
            Assert.InRange(rank.Number("errorDV"), 0, Tolerance);
        }
    }

    [Theory]
    [InlineData("exit")]
    [InlineData("hang")]
    public void A_rank_that_dies_or_goes_silent_in_the_backward_pass_fails_every_other_rank_within_the_timeout(string mode)
    {
        // Rank 2 exits, or stops answering, when the backward pass reaches the exchange of its step 2 (past the
        // handshake and two steps); the others must each raise a broken ring one timeout later, not hang or report
        // gradients.
        const int timeoutSeconds = 5;
        var job = MpiJob.Run(4, ["--backward", "--timeout", Invariant(timeoutSeconds), "--fail-rank", "2", "--fail-step", "2", "--fail-mode", mode], JobLimit, keepGoing: true);
        output.WriteLine(job.ToString());

        Assert.True(job.Ranks[2].ExitCode == 3 && job.Ranks[2].Result == "fault", $"rank 2 should have failed on purpose:\n{job}");
        foreach (var rank in job.Ranks.Where(rank => rank.Rank != 2))
        {
            Assert.True(rank.ExitCode == 2 && rank.Result == "failed", $"rank {rank.Rank} should have failed with a broken ring:\n{job}");
            Assert.Equal("RingCommunicationException", rank.Field("error"));
        }
        // The silent rank exits after two timeouts, once the survivors have given up.
        var budget = TimeSpan.FromSeconds((mode == "hang" ? 2 * timeoutSeconds : timeoutSeconds) + 25);
        Assert.True(job.Elapsed < budget, $"the job took {job.Elapsed.TotalSeconds:F1} s, over {budget.TotalSeconds} s");
    }

    [Theory]
    [InlineData("exit")]
    [InlineData("hang")]
    public void ARankThatDiesOrGoesSilentFailsEveryOtherRankWithinTheTimeout(string mode)
    {
        // Rank 2 fails on reaching step 1. Its successor misses the shard of step 1, its predecessor cannot hand
        // it the next one (32 KiB shards: past Open MPI's eager limit, a send needs a live receiver), and rank 0
        // then misses the shard of step 2, which rank 3 never got. mpirun is told not to end the job at the
        // first error exit, so that each survivor's own reaction shows.
        const int timeoutSeconds = 5;
        var job = MpiJob.Run(4, ["--timeout", Invariant(timeoutSeconds), "--fail-rank", "2", "--fail-step", "1", "--fail-mode", mode], JobLimit, keepGoing: true);
        output.WriteLine(job.ToString());

        var dead = job.Ranks[2];
        Assert.True(dead.ExitCode == 3 && dead.Result == "fault", $"rank 2 should have failed on purpose:\n{job}");
        var expectedStep = new[] { 2, 1, -1, 1 };
        foreach (var rank in job.Ranks.Where(rank => rank.Rank != 2))
        {
            Assert.True(rank.ExitCode == 2 && rank.Result == "failed", $"rank {rank.Rank} should have failed with a broken ring:\n{job}");
            Assert.Equal("RingCommunicationException", rank.Field("error"));
            Assert.Matches(
                new Regex($@"^Ring rank {rank.Rank}, step {expectedStep[rank.Rank]} \(exchange \d+\): the exchange did not complete within 00:00:0{timeoutSeconds}: .*(rank \d|from rank \d).*a rank died or stopped answering$"),
                rank.Message);
        }
        // No hang: the survivors gave up one timeout after the fault (the hanging rank then exits after two).
        var budget = TimeSpan.FromSeconds((mode == "hang" ? 2 * timeoutSeconds : timeoutSeconds) + 25);
        Assert.True(job.Elapsed < budget, $"the job took {job.Elapsed.TotalSeconds:F1} s, over {budget.TotalSeconds} s");
    }

    [Fact]
    public void AKernelFailureAbortsTheWholeJob()
    {
        // "throw": the rank's code throws inside the schedule; the driver fails the ring, which under MPI is
        // MPI_Abort after the cause is written, and mpirun ends every rank with the abort's error code.
        var job = MpiJob.Run(4, ["--fail-rank", "2", "--fail-step", "1", "--fail-mode", "throw"], JobLimit);
        output.WriteLine(job.ToString());

        Assert.Equal(70, job.ExitCode); // MpiCommunicator.AbortErrorCode
        Assert.Contains("KernelDsl MPI ring: rank 2 of 4 aborts the job: InvalidOperationException: Fault injected on rank 2 at step 1.", job.Ranks[2].Error);
        Assert.DoesNotContain(job.Ranks, rank => rank.Result == "ok");
    }

    [Fact]
    public void RanksGivenDifferentDescriptionsStopBeforeComputing()
    {
        // mpirun's MPMD form: ranks 0, 1 and 3 use d = 32, rank 2 d = 16. Ranks 2 and 3 receive a header that
        // differs from their own; the first to find it aborts the job after writing the difference.
        string[] common = ["--sequence", "128", "--heads", "2"];
        var job = MpiJob.Run(
            [(2, [.. common, "--head-dim", "32"]), (1, [.. common, "--head-dim", "16"]), (1, [.. common, "--head-dim", "32"])],
            JobLimit);
        output.WriteLine(job.ToString());

        Assert.Equal(70, job.ExitCode);
        string reports = string.Join("\n", job.Ranks.Select(rank => rank.Error));
        Assert.Matches(new Regex(@"aborts the job: RingConfigurationException: Ring rank (2: rank 1|3: rank 2) describes a different ring attention than this rank \(HeadDim (32 on rank 1, 16 on rank 2|16 on rank 2, 32 on rank 3);"), reports);
        Assert.DoesNotContain(job.Ranks, rank => rank.Result == "ok");
    }

    [Fact]
    public void AProcessStartedWithoutMpirunIsARingOfOne()
    {
        var rank = MpiJob.RunAlone(["--sequence", "64", "--causal"], JobLimit);
        output.WriteLine(rank.ToString());
        Assert.True(rank.ExitCode == 0 && rank.Result == "ok", rank.ToString());
        Assert.Equal("1", rank.Field("size"));
        Assert.InRange(rank.Number("errorO"), 0, Tolerance);
    }

    private static string Invariant(double value) => value.ToString(CultureInfo.InvariantCulture);
}
