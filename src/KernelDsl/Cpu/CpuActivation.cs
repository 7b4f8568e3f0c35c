using System;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace KernelDsl.Cpu;

/// <summary>
/// The activations of <see cref="Activation"/> on every vector width, with the CUDA kernels' formulas, for generated
/// <see cref="IGemmEpilogue"/> structs. GELU is the tanh form written with one exponential:
/// 0.5·x·(1 + tanh u) = x / (1 + e^(−2u)), u = √(2/π)·(x + 0.044715·x³); SiLU is x / (1 + e^(−x)).
/// </summary>
public static class CpuActivation
{
    private const float GeluScale = 0.7978845608f;  // √(2/π)
    private const float GeluCubic = 0.044715f;

    /// <summary>max(x, 0).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Relu(Vector512<float> x) => Vector512.Max(x, Vector512<float>.Zero);

    /// <inheritdoc cref="Relu(Vector512{float})"/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Relu(Vector256<float> x) => Vector256.Max(x, Vector256<float>.Zero);

    /// <inheritdoc cref="Relu(Vector512{float})"/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> Relu(Vector128<float> x) => Vector128.Max(x, Vector128<float>.Zero);

    /// <inheritdoc cref="Relu(Vector512{float})"/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Relu(float x) => MathF.Max(x, 0f);

    /// <summary>GELU, tanh form: x / (1 + e^(−2u)), u = √(2/π)·(x + 0.044715·x³).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Gelu(Vector512<float> x)
    {
        var u = Vector512.Create(GeluScale) * (x + Vector512.Create(GeluCubic) * x * x * x);
        return x / (Vector512<float>.One + Vector512.Exp(Vector512.Create(-2f) * u));
    }

    /// <inheritdoc cref="Gelu(Vector512{float})"/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Gelu(Vector256<float> x)
    {
        var u = Vector256.Create(GeluScale) * (x + Vector256.Create(GeluCubic) * x * x * x);
        return x / (Vector256<float>.One + Vector256.Exp(Vector256.Create(-2f) * u));
    }

    /// <inheritdoc cref="Gelu(Vector512{float})"/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> Gelu(Vector128<float> x)
    {
        var u = Vector128.Create(GeluScale) * (x + Vector128.Create(GeluCubic) * x * x * x);
        return x / (Vector128<float>.One + Vector128.Exp(Vector128.Create(-2f) * u));
    }

    /// <inheritdoc cref="Gelu(Vector512{float})"/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Gelu(float x)
    {
        float u = GeluScale * (x + GeluCubic * x * x * x);
        return x / (1f + MathF.Exp(-2f * u));
    }

    /// <summary>SiLU: x / (1 + e^(−x)).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Silu(Vector512<float> x) => x / (Vector512<float>.One + Vector512.Exp(-x));

    /// <inheritdoc cref="Silu(Vector512{float})"/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Silu(Vector256<float> x) => x / (Vector256<float>.One + Vector256.Exp(-x));

    /// <inheritdoc cref="Silu(Vector512{float})"/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> Silu(Vector128<float> x) => x / (Vector128<float>.One + Vector128.Exp(-x));

    /// <inheritdoc cref="Silu(Vector512{float})"/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Silu(float x) => x / (1f + MathF.Exp(-x));
}
