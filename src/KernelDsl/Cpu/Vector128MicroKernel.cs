using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace KernelDsl.Cpu;

/// <summary>
/// The 6×8 microkernel for 128-bit vectors (SSE: 16 xmm registers; NEON has 32). 6 rows of 2 vectors are 12 accumulators; with the
/// 2 B vectors of a depth and one A broadcast, 15 registers are live in the k loop, one short of the 16, so nothing
/// spills, and each depth is 12 FMAs per 2 loads and 6 broadcasts.
/// </summary>
internal readonly struct Vector128MicroKernel : IGemmMicroKernel
{
    private const int Lanes = 4;

    public static CpuIsa Isa => CpuIsa.Vector128;

    public static int Mr => 6;

    public static int Nr => 2 * Lanes;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Compute<TEpilogue>(int depth, ref readonly float packedA, ref readonly float packedB, ref float c, int ldc, ref readonly float bias, float alpha, float beta, bool lastBlock)
        where TEpilogue : IGemmEpilogue
    {
        ref float a = ref Unsafe.AsRef(in packedA);
        ref float b = ref Unsafe.AsRef(in packedB);
        // accR_J: vector J of row R of the tile.
        Vector128<float> acc0_0 = default, acc0_1 = default, acc1_0 = default, acc1_1 = default;
        Vector128<float> acc2_0 = default, acc2_1 = default, acc3_0 = default, acc3_1 = default;
        Vector128<float> acc4_0 = default, acc4_1 = default, acc5_0 = default, acc5_1 = default;
        for (int p = 0; p < depth; p++)
        {
            // Depth p of the B sliver (Nr floats) against depth p of each A row, broadcast.
            var b0 = Vector128.LoadUnsafe(ref b, 0);
            var b1 = Vector128.LoadUnsafe(ref b, Lanes);
            var a0 = Vector128.Create(a); acc0_0 = Vector128.FusedMultiplyAdd(a0, b0, acc0_0); acc0_1 = Vector128.FusedMultiplyAdd(a0, b1, acc0_1);
            var a1 = Vector128.Create(Unsafe.Add(ref a, 1)); acc1_0 = Vector128.FusedMultiplyAdd(a1, b0, acc1_0); acc1_1 = Vector128.FusedMultiplyAdd(a1, b1, acc1_1);
            var a2 = Vector128.Create(Unsafe.Add(ref a, 2)); acc2_0 = Vector128.FusedMultiplyAdd(a2, b0, acc2_0); acc2_1 = Vector128.FusedMultiplyAdd(a2, b1, acc2_1);
            var a3 = Vector128.Create(Unsafe.Add(ref a, 3)); acc3_0 = Vector128.FusedMultiplyAdd(a3, b0, acc3_0); acc3_1 = Vector128.FusedMultiplyAdd(a3, b1, acc3_1);
            var a4 = Vector128.Create(Unsafe.Add(ref a, 4)); acc4_0 = Vector128.FusedMultiplyAdd(a4, b0, acc4_0); acc4_1 = Vector128.FusedMultiplyAdd(a4, b1, acc4_1);
            var a5 = Vector128.Create(Unsafe.Add(ref a, 5)); acc5_0 = Vector128.FusedMultiplyAdd(a5, b0, acc5_0); acc5_1 = Vector128.FusedMultiplyAdd(a5, b1, acc5_1);
            a = ref Unsafe.Add(ref a, 6);
            b = ref Unsafe.Add(ref b, Nr);
        }

        var epilogue = new Epilogue<TEpilogue>(alpha, beta, lastBlock, in bias);
        epilogue.Store(ref c, acc0_0, acc0_1);
        epilogue.Store(ref Unsafe.Add(ref c, ldc), acc1_0, acc1_1);
        epilogue.Store(ref Unsafe.Add(ref c, 2 * ldc), acc2_0, acc2_1);
        epilogue.Store(ref Unsafe.Add(ref c, 3 * ldc), acc3_0, acc3_1);
        epilogue.Store(ref Unsafe.Add(ref c, 4 * ldc), acc4_0, acc4_1);
        epilogue.Store(ref Unsafe.Add(ref c, 5 * ldc), acc5_0, acc5_1);
    }

    /// <summary>The epilogue's operands, broadcast once per tile; stores one row of 2 vectors.</summary>
    private readonly ref struct Epilogue<TEpilogue>
        where TEpilogue : IGemmEpilogue
    {
        private readonly Vector128<float> alpha, beta, bias0, bias1;
        private readonly bool readsC, finishes;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public Epilogue(float alpha, float beta, bool lastBlock, ref readonly float bias)
        {
            this.alpha = Vector128.Create(alpha);
            this.beta = Vector128.Create(beta);
            readsC = beta != 0f;
            finishes = lastBlock;
            bias0 = bias1 = default;
            if (lastBlock && TEpilogue.ReadsBias)
            {
                bias0 = Vector128.LoadUnsafe(in bias, 0);
                bias1 = Vector128.LoadUnsafe(in bias, Lanes);
            }
        }

        /// <summary>Row ← Finish(α·acc + β·row, bias) (β = 0: the row is not read; Finish only after the last K block).</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Store(ref float row, Vector128<float> acc0, Vector128<float> acc1)
        {
            acc0 *= alpha;
            acc1 *= alpha;
            if (readsC)
            {
                acc0 = Vector128.FusedMultiplyAdd(beta, Vector128.LoadUnsafe(ref row, 0), acc0);
                acc1 = Vector128.FusedMultiplyAdd(beta, Vector128.LoadUnsafe(ref row, Lanes), acc1);
            }
            if (finishes)
            {
                acc0 = TEpilogue.Finish(acc0, bias0);
                acc1 = TEpilogue.Finish(acc1, bias1);
            }
            Vector128.StoreUnsafe(acc0, ref row, 0);
            Vector128.StoreUnsafe(acc1, ref row, Lanes);
        }
    }
}
