using System.Runtime.Intrinsics;

namespace KernelDsl.Cpu;

/// <summary>
/// The part of a GEMM's fused epilogue that is specific to its kernel, as the CPU microkernels apply it: after the
/// last K block, each vector of <c>x = α·acc + β·c</c> becomes <c>Finish(x, bias)</c> before it is stored. The KernelDsl
/// generator emits one struct per <c>[Gemm]</c> class (bias and activation), with one overload per vector width;
/// this is where an epilogue written as C# will be lowered to.
/// </summary>
/// <remarks>
/// α and β are the runtime's (every kernel has them); the output cast is the driver's (C of 16 bits is rounded once
/// its tile is final). The members are static so that each microkernel is compiled once per epilogue with the
/// calls inlined; <see cref="ReadsBias"/> is a JIT-time constant, so a kernel without bias loads none.
/// </remarks>
public interface IGemmEpilogue
{
    /// <summary>Whether <c>Finish</c> uses its bias argument: the microkernel then loads the tile's bias values (else it passes zeros).</summary>
    static abstract bool ReadsBias { get; }

    /// <summary>The epilogue on 16 consecutive columns; <paramref name="bias"/> holds theirs.</summary>
    static abstract Vector512<float> Finish(Vector512<float> x, Vector512<float> bias);

    /// <summary>The epilogue on 8 consecutive columns; <paramref name="bias"/> holds theirs.</summary>
    static abstract Vector256<float> Finish(Vector256<float> x, Vector256<float> bias);

    /// <summary>The epilogue on 4 consecutive columns; <paramref name="bias"/> holds theirs.</summary>
    static abstract Vector128<float> Finish(Vector128<float> x, Vector128<float> bias);

    /// <summary>The epilogue on one element.</summary>
    static abstract float Finish(float x, float bias);
}
