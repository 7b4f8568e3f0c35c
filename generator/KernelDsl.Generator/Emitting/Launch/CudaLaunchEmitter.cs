using KernelDsl.Generator.Planning;

namespace KernelDsl.Generator.Emitting.Launch;

/// <summary>
/// Prints the GPU entry points of a GEMM: <c>Launch</c> on device buffers (dense, and with leading
/// dimensions) and <c>Compute</c>, which picks the backend and moves host data when it is CUDA.
/// Grid, block and shared memory come from <c>Info</c>, i.e. from the plan.
/// </summary>
internal static class CudaLaunchEmitter
{
    private const string Cuda = "global::KernelDsl.Cuda";

    public static void Emit(CodeWriter w, GemmPlan plan)
    {
        var o = plan.Operands;
        bool bias = plan.Epilogue.Bias;
        bool tensorCores = plan.Cuda is MmaGemmPlan;
        string input = GemmSurface.ClrType(o.Element), output = GemmSurface.ClrType(o.Output);
        string inputBuffer = $"{Cuda}.DeviceBuffer<{input}>", outputBuffer = $"{Cuda}.DeviceBuffer<{output}>";
        string biasParameter = bias ? $" {outputBuffer} bias," : "";
        string biasArgument = bias ? " bias," : "";
        string shapes = $"A is {(o.TransposeA ? "K×M" : "M×K")}, B is {(o.TransposeB ? "N×K" : "K×N")}, C is M×N, all row-major";
        string layoutRule = tensorCores ? " K, lda and ldb must be multiples of 8 (16-byte rows for the tensor-core copies)." : "";

        w.Line($"private static {Cuda}.CudaFunction? cudaFunction;");
        w.Line();
        w.Line("/// <summary>");
        w.Line($"/// Queues C ← {GemmSurface.EpilogueFormula(plan)} on <paramref name=\"stream\"/>; {shapes}, dense, in device memory.");
        w.Line($"/// The first call compiles <see cref=\"CudaSource\"/> with NVRTC for the device (cached in memory and on disk).{layoutRule}");
        w.Line("/// </summary>");
        w.Line("/// <exception cref=\"global::System.ArgumentException\">A size is negative or a buffer too short; the message names it.</exception>");
        w.Line($"public static void Launch({Cuda}.CudaStream stream, {inputBuffer} a, {inputBuffer} b, {outputBuffer} c, int m, int n, int k,{biasParameter} float alpha = 1f, float beta = 0f)");
        w.Line($"    => Launch(stream, a, {(o.TransposeA ? "m" : "k")}, b, {(o.TransposeB ? "k" : "n")}, c, n, m, n, k,{biasArgument} alpha, beta);");
        w.Line();
        w.Line("/// <summary>");
        w.Line($"/// Queues C ← {GemmSurface.EpilogueFormula(plan)} on <paramref name=\"stream\"/>; {shapes}, rows");
        w.Line($"/// <paramref name=\"lda\"/>, <paramref name=\"ldb\"/> and <paramref name=\"ldc\"/> elements apart, in device memory.{layoutRule}");
        w.Line("/// </summary>");
        w.Line("/// <exception cref=\"global::System.ArgumentException\">A size is negative, a leading dimension too small or a buffer too short; the message names it.</exception>");
        w.Open($"public static void Launch({Cuda}.CudaStream stream, {inputBuffer} a, int lda, {inputBuffer} b, int ldb, {outputBuffer} c, int ldc, int m, int n, int k,{biasParameter} float alpha, float beta)");
        w.Line("global::System.ArgumentNullException.ThrowIfNull(stream);");
        w.Line("global::System.ArgumentNullException.ThrowIfNull(a);");
        w.Line("global::System.ArgumentNullException.ThrowIfNull(b);");
        w.Line("global::System.ArgumentNullException.ThrowIfNull(c);");
        if (bias)
        {
            w.Line("global::System.ArgumentNullException.ThrowIfNull(bias);");
        }
        w.Line($"var arguments = new global::KernelDsl.Cpu.GemmArguments(m, n, k, lda, ldb, ldc, alpha, beta, TransposeA: {GemmLaunchEmitter.Bool(o.TransposeA)}, TransposeB: {GemmLaunchEmitter.Bool(o.TransposeB)}, HasBias: {GemmLaunchEmitter.Bool(bias)});");
        w.Line($"arguments.Validate(a.Length, b.Length, c.Length, {(bias ? "bias.Length" : "0")});");
        if (tensorCores)
        {
            w.Line($"{Cuda}.GemmLaunch.CheckTensorCoreLayout(arguments);");
        }
        w.Open("if (m == 0 || n == 0)");
        w.Line("return;");
        w.Close();
        w.Line($"var function = {Cuda}.GemmLaunch.Load(ref cudaFunction, stream.Device, CudaSource, EntryPoint);");
        w.Line("var (x, y) = Info.GridFor(m, n);");
        w.Line($"var parameters = new {Cuda}.KernelArguments().Add(a).Add(b).Add(c){(bias ? ".Add(bias)" : "")}");
        w.Line("    .Add(m).Add(n).Add(k).Add(lda).Add(ldb).Add(ldc).Add(alpha).Add(beta);");
        w.Line("function.Launch(stream, (x, y, 1), (Info.Threads, 1, 1), Info.SharedMemoryBytes, parameters);");
        w.Close();
        w.Line();
        EmitCompute(w, plan, input, output);
    }

    /// <summary>Backend-agnostic: CUDA when a device is present (or requested), the emulator when requested, else the CPU fallback.</summary>
    private static void EmitCompute(CodeWriter w, GemmPlan plan, string input, string output)
    {
        bool bias = plan.Epilogue.Bias;
        string biasParameter = bias ? $" global::System.ReadOnlySpan<{output}> bias," : "";
        w.Line("/// <summary>");
        w.Line($"/// C ← {GemmSurface.EpilogueFormula(plan)} on host memory, dense, on the backend <see cref=\"global::KernelDsl.BackendSelector\"/>");
        w.Line("/// resolves <paramref name=\"backend\"/> to: CUDA when a device is present (operands copied over and C back), else");
        w.Line("/// the CPU fallback; the CUDA kernel on the CPU emulator when asked for. KERNELDSL_BACKEND=cpu|cuda|emulator|auto sets");
        w.Line("/// the default for the process.");
        w.Line("/// </summary>");
        w.Line("/// <returns>The backend that ran.</returns>");
        w.Open($"public static global::KernelDsl.KernelBackend Compute(global::System.ReadOnlySpan<{input}> a, global::System.ReadOnlySpan<{input}> b, global::System.Span<{output}> c, int m, int n, int k,{biasParameter} float alpha = 1f, float beta = 0f, global::KernelDsl.KernelBackend backend = global::KernelDsl.KernelBackend.Auto)");
        w.Line("var chosen = global::KernelDsl.BackendSelector.Resolve(backend);");
        w.Open("if (chosen == global::KernelDsl.KernelBackend.Cpu)");
        w.Line($"Run(a, b, c, m, n, k,{(bias ? " bias," : "")} alpha, beta);");
        w.Line("return global::KernelDsl.KernelBackend.Cpu;");
        w.Close();
        w.Line($"{Cuda}.GemmLaunch.RoundTrip(chosen, a, b, c, {(bias ? "bias" : "default")}, readC: beta != 0f,");
        w.Line($"    (stream, deviceA, deviceB, deviceC, deviceBias) => Launch(stream, deviceA, deviceB, deviceC, m, n, k,{(bias ? " deviceBias," : "")} alpha, beta));");
        w.Line("return chosen;");
        w.Close();
        w.Line();
    }
}
