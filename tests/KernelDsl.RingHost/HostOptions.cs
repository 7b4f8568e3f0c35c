using System;
using System.Collections.Generic;
using System.Globalization;
using KernelDsl.Ring;

namespace KernelDsl.RingHost;

/// <summary>The command line of the ring host; every rank of a job parses its own (mpirun's MPMD form can give ranks different ones).</summary>
internal sealed record HostOptions
{
    public const string Usage = """
        usage: dotnet KernelDsl.RingHost.dll [options]        (under mpirun: one process per rank)
          --transport mpi|inprocess|nccl   how ranks talk (default mpi; inprocess runs --ranks threads)
          --ranks P                        ranks of an in-process ring (default 4)
          --sequence S --head-dim d --heads H --kv-heads K   shape (default 256, 32, 2, H)
          --layout contiguous|zigzag|striped --causal        sharding and mask (default contiguous, not causal)
          --buffers 1|2                    1: exchange after compute; 2: overlap (default 2)
                                           d, layout, mask and buffers pick one of the kernels generated in Kernels.cs
          --timeout SECONDS                a wait longer than this breaks the ring (default 30)
          --progress-ms MS                 MPI progress thread interval, 0 for none (default 1)
          --seed N                         input seed, the same on every rank (default 1)
          --iterations N --warmup N        timed passes (median reported) and untimed ones (default 1, 0)
          --compute-only                   also time the same steps without communication (with --backward, its steps too)
          --link-probe                     time the link alone instead: one step's K/V exchange, blocking and behind a sleep
          --backward                       after the forward pass, the backward pass (upstream gradient from the seed) and
                                           its gradients checked too; a --fail-* fault then counts the backward's exchanges
          --no-check                       skip the float64 reference
          --tolerance X                    relative error allowed for O and L (default 1e-5)
          --fail-rank R --fail-step S --fail-mode exit|hang|throw   rank R fails on reaching step S's exchange
                                           (exit: dies; hang: silent for 2 x timeout, then dies; throw: aborts)
        prints one line per rank: RINGHOST rank=... result=ok|mismatch|failed|fault|probe ...
        """;

    public RingTransport Transport { get; init; } = RingTransport.Mpi;
    public int InProcessRanks { get; init; } = 4;
    public int SequenceLength { get; init; } = 256;
    public int HeadDim { get; init; } = 32;
    public int Heads { get; init; } = 2;
    public int? KvHeads { get; init; }
    public RingLayout Layout { get; init; } = RingLayout.Contiguous;
    public bool Causal { get; init; }
    public int Buffers { get; init; } = 2;
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(30);
    public TimeSpan ProgressInterval { get; init; } = TimeSpan.FromMilliseconds(1);
    public int Seed { get; init; } = 1;
    public int Iterations { get; init; } = 1;
    public int Warmup { get; init; }
    public bool ComputeOnly { get; init; }
    public bool LinkProbe { get; init; }
    public bool Check { get; init; } = true;
    public bool Backward { get; init; }
    public double Tolerance { get; init; } = 1e-5;
    public FaultPlan? Fault { get; init; }

    /// <summary>Parses the command line; throws <see cref="ArgumentException"/> with what is wrong.</summary>
    public static HostOptions Parse(IReadOnlyList<string> args)
    {
        var options = new HostOptions();
        int? failRank = null, failStep = null;
        var failMode = FaultMode.Exit;
        for (int i = 0; i < args.Count; i++)
        {
            string name = args[i];
            string Value() => i + 1 < args.Count ? args[++i] : throw new ArgumentException($"{name} needs a value.");
            int Integer() => int.Parse(Value(), CultureInfo.InvariantCulture);
            options = name switch
            {
                "--transport" => options with { Transport = Enum.Parse<RingTransport>(Value(), ignoreCase: true) },
                "--ranks" => options with { InProcessRanks = Integer() },
                "--sequence" => options with { SequenceLength = Integer() },
                "--head-dim" => options with { HeadDim = Integer() },
                "--heads" => options with { Heads = Integer() },
                "--kv-heads" => options with { KvHeads = Integer() },
                "--layout" => options with { Layout = Enum.Parse<RingLayout>(Value(), ignoreCase: true) },
                "--causal" => options with { Causal = true },
                "--buffers" => options with { Buffers = Integer() },
                "--timeout" => options with { Timeout = TimeSpan.FromSeconds(double.Parse(Value(), CultureInfo.InvariantCulture)) },
                "--progress-ms" => options with { ProgressInterval = TimeSpan.FromMilliseconds(Integer()) },
                "--seed" => options with { Seed = Integer() },
                "--iterations" => options with { Iterations = Integer() },
                "--warmup" => options with { Warmup = Integer() },
                "--compute-only" => options with { ComputeOnly = true },
                "--link-probe" => options with { LinkProbe = true },
                "--no-check" => options with { Check = false },
                "--backward" => options with { Backward = true },
                "--tolerance" => options with { Tolerance = double.Parse(Value(), CultureInfo.InvariantCulture) },
                "--fail-rank" => Set(options, () => failRank = Integer()),
                "--fail-step" => Set(options, () => failStep = Integer()),
                "--fail-mode" => Set(options, () => failMode = Enum.Parse<FaultMode>(Value(), ignoreCase: true)),
                _ => throw new ArgumentException($"Unknown option {name}."),
            };
        }
        if (failRank is not null != failStep is not null)
        {
            throw new ArgumentException("--fail-rank and --fail-step go together.");
        }
        if (options.Iterations < 1 || options.Warmup < 0)
        {
            throw new ArgumentException("--iterations must be at least 1 and --warmup not negative.");
        }
        return failRank is { } rank ? options with { Fault = new FaultPlan(rank, failStep!.Value, failMode) } : options;
    }

    private static HostOptions Set(HostOptions options, Action assign)
    {
        assign();
        return options;
    }
}
