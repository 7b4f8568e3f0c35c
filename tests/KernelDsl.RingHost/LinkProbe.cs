using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.Linq;
using System.Threading;
using KernelDsl.Ring;

namespace KernelDsl.RingHost;

/// <summary>
/// Times the ring's link alone, with the K/V shard size the options would move per step: an exchange posted
/// and waited on at once (the transfer time), and one posted before a sleep that stands in for compute
/// without competing for a core (what remains to wait is the part the transport did not move meanwhile).
/// </summary>
internal static class LinkProbe
{
    public static int Execute(IRingCommunicator communicator, HostOptions options)
    {
        int kvHeads = options.KvHeads ?? options.Heads;
        int rows = SequenceShard.MaxLocalLength(options.Layout, options.SequenceLength, communicator.Size);
        var send = new byte[2 * kvHeads * rows * options.HeadDim * sizeof(float)];
        var receive = new byte[send.Length];
        new Random(options.Seed + communicator.Rank).NextBytes(send);

        var exchange = Measure(options, () => communicator.StartExchange(send, receive).Wait());
        // The same "compute" on every rank (a rank that computed longer would make its neighbours wait for its
        // post, which is not transfer time): as long as the transfer at 100 MB/s, far below this link's speed.
        var sleep = TimeSpan.FromMilliseconds(Math.Max(10, Math.Ceiling(send.Length / 1e5)));
        var waited = new List<TimeSpan>();
        for (int pass = 0; pass < options.Warmup + options.Iterations; pass++)
        {
            var transfer = communicator.StartExchange(send, receive);
            Thread.Sleep(sleep);
            long start = Stopwatch.GetTimestamp();
            transfer.Wait();
            if (pass >= options.Warmup)
            {
                waited.Add(Stopwatch.GetElapsedTime(start));
            }
        }
        var hidden = Median(waited);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"RINGHOST rank={communicator.Rank} size={communicator.Size} result=probe bytes={send.Length} exchangeMs={exchange.TotalMilliseconds:F3} " +
            $"GBps={send.Length / exchange.TotalSeconds / 1e9:F2} sleepMs={sleep.TotalMilliseconds:F0} waitAfterSleepMs={hidden.TotalMilliseconds:F3}"));
        return Program.OkExitCode;
    }

    private static TimeSpan Measure(HostOptions options, Action action)
    {
        var times = new List<TimeSpan>();
        for (int pass = 0; pass < options.Warmup + options.Iterations; pass++)
        {
            long start = Stopwatch.GetTimestamp();
            action();
            if (pass >= options.Warmup)
            {
                times.Add(Stopwatch.GetElapsedTime(start));
            }
        }
        return Median(times);
    }

    private static TimeSpan Median(List<TimeSpan> times) => times.Order().ElementAt(times.Count / 2);
}
