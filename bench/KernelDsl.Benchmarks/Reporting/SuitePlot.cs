using System.Collections.Generic;
using System.Linq;
using ScottPlot;

namespace KernelDsl.Benchmarks;

/// <summary>
/// One PNG per suite: a group of bars per case (in the suite's order, so by size), a bar per method, GFLOP/s at the
/// median with a whisker of half the interquartile range either side; the generator suite plots milliseconds instead.
/// </summary>
public static class SuitePlot
{
    /// <summary>Writes the plot of <paramref name="cases"/> (one suite) to <paramref name="path"/>.</summary>
    public static void Save(string path, string suite, IReadOnlyList<CaseResult> cases)
    {
        bool throughput = cases.Any(c => c.Workload.Flops > 0);
        string[] methods = [.. cases.Select(c => c.Method).Distinct()];
        IWorkload[] workloads = [.. cases.Select(c => c.Workload).Distinct()];
        var palette = new ScottPlot.Palettes.Category10();
        var plot = new Plot();
        var bars = new List<Bar>();
        var ticks = new List<Tick>();
        for (int w = 0; w < workloads.Length; w++)
        {
            double group = w * (methods.Length + 1);
            ticks.Add(new Tick(group + (methods.Length - 1) / 2.0, workloads[w].ToString()!));
            for (int m = 0; m < methods.Length; m++)
            {
                var result = cases.FirstOrDefault(c => Equals(c.Workload, workloads[w]) && c.Method == methods[m]);
                if (result is null)
                {
                    continue;
                }
                // The first quartile of time is the third of speed; ScottPlot draws symmetric whiskers.
                double value = throughput ? result.Gflops : result.Median / 1e6;
                double spread = throughput ? result.Workload.Flops / result.Q1 - result.Workload.Flops / result.Q3 : (result.Q3 - result.Q1) / 1e6;
                bars.Add(new Bar
                {
                    Position = group + m,
                    Value = value,
                    Error = spread / 2,
                    FillColor = palette.GetColor(m),
                });
            }
        }
        plot.Add.Bars(bars);
        for (int m = 0; m < methods.Length; m++)
        {
            plot.Legend.ManualItems.Add(new LegendItem { LabelText = methods[m], FillColor = palette.GetColor(m) });
        }
        plot.ShowLegend(Alignment.UpperLeft);
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericManual([.. ticks]);
        plot.Axes.Margins(bottom: 0);
        plot.Title(suite);
        plot.YLabel(throughput ? "GFLOP/s (median)" : "milliseconds (median)");
        plot.SavePng(path, 1000, 480);
    }
}
