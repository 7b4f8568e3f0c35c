using BenchmarkDotNet.Running;

namespace KernelDsl.Benchmarks;

/// <summary>Entry point: pick suites with <c>--filter</c> (e.g. <c>--filter '*Sgemm*'</c>).</summary>
public static class Program
{
    /// <summary>Runs the suites selected on the command line.</summary>
    public static void Main(string[] args) => BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
}
