using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace KernelDsl.Cpu;

/// <summary>
/// The 8×32 microkernel for 512-bit vectors (AVX-512: 32 zmm registers). 8 rows of 2 vectors are 16 accumulators;
/// with the 2 B vectors of a depth and one A broadcast, 19 registers are live in the k loop, which leaves the
/// register allocator room (no spills) and gives 16 FMAs per 2 loads and 8 broadcasts.
/// </summary>
internal readonly struct Vector512MicroKernel : IGemmMicroKernel
{
    private const int Lanes = 16;

    public static CpuIsa Isa => CpuIsa.Vector512;

    public static int Mr => 8;

    public static int Nr => 2 * Lanes;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Compute<TEpilogue>(int depth, ref readonly float packedA, ref readonly float packedB, ref float c, int ldc, ref readonly float bias, float alpha, float beta, bool lastBlock)
        where TEpilogue : IGemmEpilogue
    {
        ref float a = ref Unsafe.AsRef(in packedA);
        ref float b = ref Unsafe.AsRef(in packedB);
        // accR_J: vector J of row R of the tile.
        Vector512<float> acc0_0 = default, acc0_1 = default, acc1_0 = default, acc1_1 = default;
        Vector512<float> acc2_0 = default, acc2_1 = default, acc3_0 = default, acc3_1 = default;
        Vector512<float> acc4_0 = default, acc4_1 = default, acc5_0 = default, acc5_1 = default;
        Vector512<float> acc6_0 = default, acc6_1 = default, acc7_0 = default, acc7_1 = default;
        for (int p = 0; p < depth; p++)
        {
            // Depth p of the B sliver (Nr floats) against depth p of each A row, broadcast.
            var b0 = Vector512.LoadUnsafe(ref b, 0);
            var b1 = Vector512.LoadUnsafe(ref b, Lanes);
            var a0 = Vector512.Create(a); acc0_0 = Vector512.FusedMultiplyAdd(a0, b0, acc0_0); acc0_1 = Vector512.FusedMultiplyAdd(a0, b1, acc0_1);
            var a1 = Vector512.Create(Unsafe.Add(ref a, 1)); acc1_0 = Vector512.FusedMultiplyAdd(a1, b0, acc1_0); acc1_1 = Vector512.FusedMultiplyAdd(a1, b1, acc1_1);
            var a2 = Vector512.Create(Unsafe.Add(ref a, 2)); acc2_0 = Vector512.FusedMultiplyAdd(a2, b0, acc2_0); acc2_1 = Vector512.FusedMultiplyAdd(a2, b1, acc2_1);
            var a3 = Vector512.Create(Unsafe.Add(ref a, 3)); acc3_0 = Vector512.FusedMultiplyAdd(a3, b0, acc3_0); acc3_1 = Vector512.FusedMultiplyAdd(a3, b1, acc3_1);
            var a4 = Vector512.Create(Unsafe.Add(ref a, 4)); acc4_0 = Vector512.FusedMultiplyAdd(a4, b0, acc4_0); acc4_1 = Vector512.FusedMultiplyAdd(a4, b1, acc4_1);
            var a5 = Vector512.Create(Unsafe.Add(ref a, 5)); acc5_0 = Vector512.FusedMultiplyAdd(a5, b0, acc5_0); acc5_1 = Vector512.FusedMultiplyAdd(a5, b1, acc5_1);
            var a6 = Vector512.Create(Unsafe.Add(ref a, 6)); acc6_0 = Vector512.FusedMultiplyAdd(a6, b0, acc6_0); acc6_1 = Vector512.FusedMultiplyAdd(a6, b1, acc6_1);
            var a7 = Vector512.Create(Unsafe.Add(ref a, 7)); acc7_0 = Vector512.FusedMultiplyAdd(a7, b0, acc7_0); acc7_1 = Vector512.FusedMultiplyAdd(a7, b1, acc7_1);
            a = ref Unsafe.Add(ref a, 8);
            b = ref Unsafe.Add(ref b, Nr);
        }

        var epilogue = new Epilogue<TEpilogue>(alpha, beta, lastBlock, in bias);
        epilogue.Store(ref c, acc0_0, acc0_1);
        epilogue.Store(ref Unsafe.Add(ref c, ldc), acc1_0, acc1_1);
        epilogue.Store(ref Unsafe.Add(ref c, 2 * ldc), acc2_0, acc2_1);
        epilogue.Store(ref Unsafe.Add(ref c, 3 * ldc), acc3_0, acc3_1);
        epilogue.Store(ref Unsafe.Add(ref c, 4 * ldc), acc4_0, acc4_1);
        epilogue.Store(ref Unsafe.Add(ref c, 5 * ldc), acc5_0, acc5_1);
        epilogue.Store(ref Unsafe.Add(ref c, 6 * ldc), acc6_0, acc6_1);
        epilogue.Store(ref Unsafe.Add(ref c, 7 * ldc), acc7_0, acc7_1);
    }

    /// <summary>The epilogue's operands, broadcast once per tile; stores one row of 2 vectors.</summary>
    private readonly ref struct Epilogue<TEpilogue>
        where TEpilogue : IGemmEpilogue
    {
        private readonly Vector512<float> alpha, beta, bias0, bias1;
        private readonly bool readsC, finishes;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public Epilogue(float alpha, float beta, bool lastBlock, ref readonly float bias)
        {
            this.alpha = Vector512.Create(alpha);
            this.beta = Vector512.Create(beta);
            readsC = beta != 0f;
            finishes = lastBlock;
            bias0 = bias1 = default;
            if (lastBlock && TEpilogue.ReadsBias)
            {
                bias0 = Vector512.LoadUnsafe(in bias, 0);
                bias1 = Vector512.LoadUnsafe(in bias, Lanes);
            }
        }

        /// <summary>Row ← Finish(α·acc + β·row, bias) (β = 0: the row is not read; Finish only after the last K block).</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Store(ref float row, Vector512<float> acc0, Vector512<float> acc1)
        {
            acc0 *= alpha;
            acc1 *= alpha;
            if (readsC)
            {
                acc0 = Vector512.FusedMultiplyAdd(beta, Vector512.LoadUnsafe(ref row, 0), acc0);
                acc1 = Vector512.FusedMultiplyAdd(beta, Vector512.LoadUnsafe(ref row, Lanes), acc1);
            }
            if (finishes)
            {
                acc0 = TEpilogue.Finish(acc0, bias0);
                acc1 = TEpilogue.Finish(acc1, bias1);
            }
            Vector512.StoreUnsafe(acc0, ref row, 0);
            Vector512.StoreUnsafe(acc1, ref row, Lanes);
        }
    }
}
