using KernelDsl.Generator.Planning;

namespace KernelDsl.Generator.Emitting.Launch;

/// <summary>
/// Prints the GPU entry points of a GEMM: <c>Launch</c> on device buffers and <c>Compute</c>, which picks the
/// backend and moves host data when it is CUDA, each dense and with leading dimensions.
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
        string biasArgument = bias ? "bias" : "null";
        string shapes = GemmSurface.Shapes(o);
        // A dense A's rows are K long (M when transposed), a dense B's N long (K when transposed).
        string denseRule = tensorCores ? " " + TensorCoreRule((o.TransposeA, o.TransposeB) switch
        {
            (false, true) => "K",
            (true, true) => "K and M",
            (false, false) => "K and N",
            _ => "K, M and N",
        }) : "";
        string stridedRule = tensorCores ? " " + TensorCoreRule("K, lda and ldb") : "";

        w.Line($"private static {Cuda}.CudaFunction? cudaFunction;");
        if (plan.Hopper is not null)
        {
            w.Line($"private static {Cuda}.CudaFunction? cudaFunctionSm90a;");
        }
        w.Line();
        w.Line("/// <summary>");
        w.Line($"/// Queues C ← {GemmSurface.EpilogueFormula(plan)} on <paramref name=\"stream\"/>; {shapes}, dense, in device memory.");
        w.Line($"/// The first call compiles <see cref=\"CudaSource\"/> with NVRTC for the device (cached in memory and on disk).{denseRule}");
        w.Line($"/// {GemmSurface.ZeroSizes(plan)}");
        w.Line("/// </summary>");
        w.Line("/// <exception cref=\"global::System.ArgumentException\">A size is negative or a buffer too short; the message names it.</exception>");
        w.Line($"public static void Launch({Cuda}.CudaStream stream, {inputBuffer} a, {inputBuffer} b, {outputBuffer} c, int m, int n, int k,{biasParameter} float alpha = 1f, float beta = 0f)");
        w.Line($"    => LaunchCuda(stream, a, b, c, {biasArgument}, {GemmSurface.DenseArguments});");
        w.Line();
        w.Line("/// <summary>");
        w.Line($"/// Queues C ← {GemmSurface.EpilogueFormula(plan)} on <paramref name=\"stream\"/>; {shapes}, rows");
        w.Line($"/// <paramref name=\"lda\"/>, <paramref name=\"ldb\"/> and <paramref name=\"ldc\"/> elements apart, in device memory.{stridedRule}");
        w.Line($"/// {GemmSurface.ZeroSizes(plan)}");
        w.Line("/// </summary>");
        w.Line("/// <exception cref=\"global::System.ArgumentException\">A size is negative, a leading dimension too small or a buffer too short; the message names it.</exception>");
        w.Line($"public static void Launch({Cuda}.CudaStream stream, {inputBuffer} a, int lda, {inputBuffer} b, int ldb, {outputBuffer} c, int ldc, int m, int n, int k,{biasParameter} float alpha = 1f, float beta = 0f)");
        w.Line($"    => LaunchCuda(stream, a, b, c, {biasArgument}, {GemmSurface.StridedArguments});");
        w.Line();
        w.Line("/// <summary>");
        w.Line("/// Both <c>Launch</c> overloads, <c>Compute</c>'s device route and <c>Kernel.Launch</c>: checks, then queues the kernel unless C is empty.");
        w.Line($"/// <paramref name=\"bias\"/> is {(bias ? "required" : "null or empty: this kernel adds none")}.");
        w.Line("/// </summary>");
        w.Open($"private static void LaunchCuda({Cuda}.CudaStream stream, {inputBuffer} a, {inputBuffer} b, {outputBuffer} c, {outputBuffer}? bias, global::KernelDsl.Cpu.GemmArguments arguments)");
        w.Line("global::System.ArgumentNullException.ThrowIfNull(stream);");
        w.Line("global::System.ArgumentNullException.ThrowIfNull(a);");
        w.Line("global::System.ArgumentNullException.ThrowIfNull(b);");
        w.Line("global::System.ArgumentNullException.ThrowIfNull(c);");
        if (bias)
        {
            w.Line("global::System.ArgumentNullException.ThrowIfNull(bias);");
        }
        w.Line($"arguments.Validate(a.Length, b.Length, c.Length, {(bias ? "bias.Length" : "bias?.Length ?? 0")});");
        if (tensorCores)
        {
            w.Line($"{Cuda}.GemmLaunch.CheckTensorCoreLayout(arguments);");
        }
        w.Open("if (arguments.IsEmpty)");
        w.Line("return;  // M or N = 0: a grid of no blocks is not a valid launch, and there is nothing to do");
        w.Close();
        if (plan.Hopper is not null)
        {
            w.Open($"if ({Cuda}.HopperGemmLaunch.Applies(Info, stream.Device, arguments))");
            w.Line($"{Cuda}.HopperGemmLaunch.Launch(ref cudaFunctionSm90a, Info, CudaSourceSm90a, stream, a, b, c, bias, arguments);");
            w.Line("return;");
            w.Close();
        }
        w.Line($"{Cuda}.CudaFunction function = {Cuda}.GemmLaunch.Load(ref cudaFunction, stream.Device, CudaSource, EntryPoint);");
        w.Line("(int x, int y) = Info.GridFor(arguments.M, arguments.N);");
        w.Line($"{Cuda}.KernelArguments parameters = new {Cuda}.KernelArguments().Add(a).Add(b).Add(c){(bias ? ".Add(bias)" : "")}");
        w.Line("    .Add(arguments.M).Add(arguments.N).Add(arguments.K).Add(arguments.Lda).Add(arguments.Ldb).Add(arguments.Ldc)");
        w.Line("    .Add(arguments.ProductScale).Add(arguments.Beta);");
        w.Line("function.Launch(stream, (x, y, 1), (Info.Threads, 1, 1), Info.SharedMemoryBytes, parameters);");
        w.Close();
        w.Line();
        EmitCompute(w, plan, input, output);
    }

    private static string TensorCoreRule(string sizes) =>
        $"{sizes} must be {(sizes == "K" ? "a multiple" : "multiples")} of 8 (16-byte rows for the tensor-core copies) unless a size is 0, when no row is read.";

    /// <summary>
    /// Backend-agnostic, dense and with leading dimensions: CUDA when a device is present (or requested), the emulator
    /// when requested, else the CPU fallback.
    /// </summary>
    private static void EmitCompute(CodeWriter w, GemmPlan plan, string input, string output)
    {
        bool bias = plan.Epilogue.Bias;
        string biasParameter = bias ? $" global::System.ReadOnlySpan<{output}> bias," : "";
        string biasArgument = bias ? "bias" : "default";
        string inputSpan = $"global::System.ReadOnlySpan<{input}>", outputSpan = $"global::System.Span<{output}>";
        const string backend = "global::KernelDsl.KernelBackend backend = global::KernelDsl.KernelBackend.Auto";
        string[] summary =
        [
            $"on the backend <see cref=\"global::KernelDsl.BackendSelector\"/> resolves <paramref name=\"backend\"/> to: CUDA when a device",
            "is present (operands copied over and C back), else the CPU fallback; the CUDA kernel on the CPU emulator when asked for.",
            "KERNELDSL_BACKEND=cpu|cuda|emulator|auto sets the default for the process. The GPU rules of <c>Launch</c> apply on CUDA and the emulator.",
            GemmSurface.ZeroSizes(plan),
        ];

        ComputeOverload("on dense host memory,", "", GemmSurface.DenseArguments);
        ComputeOverload("on host memory, rows <paramref name=\"lda\"/>, <paramref name=\"ldb\"/> and <paramref name=\"ldc\"/> elements apart,", "int ld", GemmSurface.StridedArguments);

        // The dense and the leading-dimension overload differ in their memory line, their parameters and how they build the arguments.
        void ComputeOverload(string memory, string leading, string arguments)
        {
            string Operand(string type, string name) => leading.Length == 0 ? $"{type} {name}" : $"{type} {name}, {leading}{name}";
            w.Line("/// <summary>");
            w.Line($"/// C ← {GemmSurface.EpilogueFormula(plan)} {memory}");
            foreach (string line in summary)
            {
                w.Line("/// " + line);
            }
            w.Line("/// </summary>");
            w.Line("/// <returns>The backend that ran.</returns>");
            w.Line($"public static global::KernelDsl.KernelBackend Compute({Operand(inputSpan, "a")}, {Operand(inputSpan, "b")}, {Operand(outputSpan, "c")}, int m, int n, int k,{biasParameter} float alpha = 1f, float beta = 0f, {backend})");
            w.Line($"    => ComputeOn(a, b, c, {biasArgument}, {arguments}, backend);");
            w.Line();
        }

        w.Line("/// <summary>Both <c>Compute</c> overloads and <c>Kernel.Compute</c>: <c>RunCpu</c>, or the operands through the device and <c>LaunchCuda</c>.</summary>");
        w.Open($"private static global::KernelDsl.KernelBackend ComputeOn({inputSpan} a, {inputSpan} b, {outputSpan} c, global::System.ReadOnlySpan<{output}> bias, global::KernelDsl.Cpu.GemmArguments arguments, global::KernelDsl.KernelBackend backend)");
        w.Line("global::KernelDsl.KernelBackend chosen = global::KernelDsl.BackendSelector.Resolve(backend);");
        w.Open("if (chosen == global::KernelDsl.KernelBackend.Cpu)");
        w.Line("RunCpu(a, b, c, bias, arguments, isa: null);");
        w.Line("return global::KernelDsl.KernelBackend.Cpu;");
        w.Close();
        w.Line($"{Cuda}.GemmLaunch.RoundTrip(chosen, arguments, a, b, c, bias,");
        w.Line("    (stream, deviceA, deviceB, deviceC, deviceBias) => LaunchCuda(stream, deviceA, deviceB, deviceC, deviceBias, arguments));");
        w.Line("return chosen;");
        w.Close();
        w.Line();
    }
}
