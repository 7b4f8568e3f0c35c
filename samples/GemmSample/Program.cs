using System;
using System.Diagnostics;
using System.Threading.Tasks;
using GemmSample;
using KernelDsl;
using KernelDsl.Cpu;

// Runs each annotated kernel through Compute on the backend KERNELDSL_BACKEND picks (the CPU fallback when no GPU
// is present; the generated CUDA C on the CPU emulator with KERNELDSL_BACKEND=emulator, at sizes it runs in
// seconds), checks it against a float64 reference and prints shape, GFLOP/s and relative error.
const int Seed = 2026;
KernelBackend backend = BackendSelector.Resolve();
bool emulated = backend == KernelBackend.Emulator;
int scale = emulated ? 4 : 1;  // the emulator runs every CUDA thread on the CPU
Console.WriteLine(backend == KernelBackend.Cpu
    ? $"KernelDsl GEMM sample: CPU fallback ({CpuFeatures.Best}, {Environment.ProcessorCount} cores), seed {Seed}"
    : $"KernelDsl GEMM sample: CUDA kernels on {KernelDsl.Cuda.CudaDevice.For(backend)}, seed {Seed}");
Console.WriteLine();

bool allPassed = true;
allPassed &= Check("Proj   relu(x·Wᵀ + b)", Proj.Info, 1024 / scale, 1024 / scale, 1024 / scale,
    (a, b, c, bias, m, n, k) => Proj.Compute(a, b, c, m, n, k, bias, backend: backend));
allPassed &= Check("Square A·B", Square.Info, 1024 / scale, 1024 / scale, 1024 / scale,
    (a, b, c, bias, m, n, k) => Square.Compute(a, b, c, m, n, k, backend: backend));
allPassed &= Check("Gate   silu(Aᵀ·B + b)", Gate.Info, 777 / scale, 1000 / scale, 513 / scale,
    (a, b, c, bias, m, n, k) => Gate.Compute(a, b, c, m, n, k, bias, backend: backend));

Console.WriteLine();
Console.WriteLine("The plan behind Proj (Proj.Info):");
Console.WriteLine("  " + Proj.Info);
Console.WriteLine($"  CUDA entry point {Proj.EntryPoint}, {Proj.CudaSource.Split('\n').Length} lines of CUDA C in Proj.CudaSource");
Console.WriteLine("  generated files: samples/GemmSample/obj/generated/");
return allPassed ? 0 : 1;

bool Check(string label, GemmInfo info, int m, int n, int k, GemmRun run)
{
    var random = new Random(Seed);
    float[] a = Random(random, m * k), b = Random(random, k * n), bias = Random(random, n);
    float[] c = new float[m * n];
    Array.Fill(c, float.NaN);  // every element must be written

    run(a, b, c, bias, m, n, k);  // warm-up (JIT, thread pool)
    var times = new double[emulated ? 1 : 5];
    for (int i = 0; i < times.Length; i++)
    {
        Array.Fill(c, float.NaN);
        var clock = Stopwatch.StartNew();
        run(a, b, c, bias, m, n, k);
        times[i] = clock.Elapsed.TotalSeconds;
    }
    Array.Sort(times);
    double gflops = 2.0 * m * n * k / times[times.Length / 2] / 1e9;
    double error = RelativeError(info, a, b, c, bias, m, n, k);
    bool passed = error <= 1e-5;
    string speed = emulated ? $"{times[0],6:0.00} s emulated" : $"{gflops,7:0.0} GFLOP/s";
    Console.WriteLine($"{label,-24} {m,5}×{n,5}×{k,5}  {speed}  rel. error {error:0.00e+00}  {(passed ? "ok" : "FAILED")}");
    return passed;
}

// ‖C − ref‖ / ‖ref‖ in float64, with ref = act(op(A)·op(B) + bias) (α = 1, β = 0).
static double RelativeError(GemmInfo info, float[] a, float[] b, float[] c, float[] bias, int m, int n, int k)
{
    double diff = 0, norm = 0;
    object gate = new();
    Parallel.For(0, m, i =>
    {
        double localDiff = 0, localNorm = 0;
        for (int j = 0; j < n; j++)
        {
            double sum = info.Bias ? bias[j] : 0;
            for (int p = 0; p < k; p++)
            {
                double x = info.TransposeA ? a[p * m + i] : a[i * k + p];
                double y = info.TransposeB ? b[j * k + p] : b[p * n + j];
                sum += x * y;
            }
            double expected = Activate(info.Activation, sum);
            double d = c[i * n + j] - expected;
            localDiff += double.IsFinite(d) ? d * d : double.PositiveInfinity;
            localNorm += expected * expected;
        }
        lock (gate)
        {
            diff += localDiff;
            norm += localNorm;
        }
    });
    return Math.Sqrt(diff / norm);
}

static double Activate(Activation activation, double x) => activation switch
{
    Activation.Relu => Math.Max(x, 0),
    Activation.Silu => x / (1 + Math.Exp(-x)),
    Activation.Gelu => 0.5 * x * (1 + Math.Tanh(Math.Sqrt(2 / Math.PI) * (x + 0.044715 * x * x * x))),
    _ => x,
};

static float[] Random(Random random, int count)
{
    var values = new float[count];
    for (int i = 0; i < values.Length; i++)
    {
        values[i] = random.NextSingle() * 2 - 1;
    }
    return values;
}

delegate void GemmRun(float[] a, float[] b, float[] c, float[] bias, int m, int n, int k);
