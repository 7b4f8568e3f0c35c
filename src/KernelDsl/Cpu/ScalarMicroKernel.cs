using System;
using System.Runtime.CompilerServices;

namespace KernelDsl.Cpu;

/// <summary>
/// The 4×4 microkernel in plain scalar code, for machines without accelerated vectors: 16 float accumulators,
/// each depth 16 FMAs per 4 B and 4 A loads.
/// </summary>
internal readonly struct ScalarMicroKernel : IGemmMicroKernel
{
    public static CpuIsa Isa => CpuIsa.Scalar;

    public static int Mr => 4;

    public static int Nr => 4;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Compute<TEpilogue>(int depth, ref readonly float packedA, ref readonly float packedB, ref float c, int ldc, ref readonly float bias, float alpha, float beta, bool lastBlock)
        where TEpilogue : IGemmEpilogue
    {
        ref float a = ref Unsafe.AsRef(in packedA);
        ref float b = ref Unsafe.AsRef(in packedB);
        // accR_J: column J of row R of the tile.
        float acc0_0 = 0f, acc0_1 = 0f, acc0_2 = 0f, acc0_3 = 0f, acc1_0 = 0f, acc1_1 = 0f, acc1_2 = 0f, acc1_3 = 0f;
        float acc2_0 = 0f, acc2_1 = 0f, acc2_2 = 0f, acc2_3 = 0f, acc3_0 = 0f, acc3_1 = 0f, acc3_2 = 0f, acc3_3 = 0f;
        for (int p = 0; p < depth; p++)
        {
            float b0 = b, b1 = Unsafe.Add(ref b, 1), b2 = Unsafe.Add(ref b, 2), b3 = Unsafe.Add(ref b, 3);
            float a0 = a;
            acc0_0 = MathF.FusedMultiplyAdd(a0, b0, acc0_0); acc0_1 = MathF.FusedMultiplyAdd(a0, b1, acc0_1);
            acc0_2 = MathF.FusedMultiplyAdd(a0, b2, acc0_2); acc0_3 = MathF.FusedMultiplyAdd(a0, b3, acc0_3);
            float a1 = Unsafe.Add(ref a, 1);
            acc1_0 = MathF.FusedMultiplyAdd(a1, b0, acc1_0); acc1_1 = MathF.FusedMultiplyAdd(a1, b1, acc1_1);
            acc1_2 = MathF.FusedMultiplyAdd(a1, b2, acc1_2); acc1_3 = MathF.FusedMultiplyAdd(a1, b3, acc1_3);
            float a2 = Unsafe.Add(ref a, 2);
            acc2_0 = MathF.FusedMultiplyAdd(a2, b0, acc2_0); acc2_1 = MathF.FusedMultiplyAdd(a2, b1, acc2_1);
            acc2_2 = MathF.FusedMultiplyAdd(a2, b2, acc2_2); acc2_3 = MathF.FusedMultiplyAdd(a2, b3, acc2_3);
            float a3 = Unsafe.Add(ref a, 3);
            acc3_0 = MathF.FusedMultiplyAdd(a3, b0, acc3_0); acc3_1 = MathF.FusedMultiplyAdd(a3, b1, acc3_1);
            acc3_2 = MathF.FusedMultiplyAdd(a3, b2, acc3_2); acc3_3 = MathF.FusedMultiplyAdd(a3, b3, acc3_3);
            a = ref Unsafe.Add(ref a, 4);
            b = ref Unsafe.Add(ref b, 4);
        }

        var epilogue = new Epilogue<TEpilogue>(alpha, beta, lastBlock, in bias);
        epilogue.Store(ref c, acc0_0, acc0_1, acc0_2, acc0_3);
        epilogue.Store(ref Unsafe.Add(ref c, ldc), acc1_0, acc1_1, acc1_2, acc1_3);
        epilogue.Store(ref Unsafe.Add(ref c, 2 * ldc), acc2_0, acc2_1, acc2_2, acc2_3);
        epilogue.Store(ref Unsafe.Add(ref c, 3 * ldc), acc3_0, acc3_1, acc3_2, acc3_3);
    }

    /// <summary>The epilogue's operands, read once per tile; stores one row of 4 elements.</summary>
    private readonly ref struct Epilogue<TEpilogue>
        where TEpilogue : IGemmEpilogue
    {
        private readonly float alpha, beta, bias0, bias1, bias2, bias3;
        private readonly bool finishes;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public Epilogue(float alpha, float beta, bool lastBlock, ref readonly float bias)
        {
            this.alpha = alpha;
            this.beta = beta;
            finishes = lastBlock;
            bias0 = bias1 = bias2 = bias3 = 0f;
            if (lastBlock && TEpilogue.ReadsBias)
            {
                bias0 = bias;
                bias1 = Unsafe.Add(ref Unsafe.AsRef(in bias), 1);
                bias2 = Unsafe.Add(ref Unsafe.AsRef(in bias), 2);
                bias3 = Unsafe.Add(ref Unsafe.AsRef(in bias), 3);
            }
        }

        /// <summary>Row ← Finish(α·acc + β·row, bias) (β = 0: the row is not read; Finish only after the last K block).</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Store(ref float row, float acc0, float acc1, float acc2, float acc3)
        {
            Store(ref row, acc0, bias0);
            Store(ref Unsafe.Add(ref row, 1), acc1, bias1);
            Store(ref Unsafe.Add(ref row, 2), acc2, bias2);
            Store(ref Unsafe.Add(ref row, 3), acc3, bias3);
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private void Store(ref float element, float acc, float bias)
        {
            acc *= alpha;
            if (beta != 0f)
            {
                acc = MathF.FusedMultiplyAdd(beta, element, acc);
            }
            element = finishes ? TEpilogue.Finish(acc, bias) : acc;
        }
    }
}
