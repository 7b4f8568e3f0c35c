using System;
using KernelDsl.Cuda;
using KernelDsl.Tests.Cuda;
using Xunit;

namespace KernelDsl.Tests.Emulation;

/// <summary>
/// The emulator's warp collectives against fragment layouts from sources independent of KernelDsl's emitter and of
/// the emulator itself, transcribed here as data:
/// <list type="bullet">
/// <item>mma.sync m16n8k16 (f16 and bf16 in, fp32 accumulate): CUTLASS CuTe, include/cute/atom/mma_traits_sm80.hpp,
/// <c>MMA_Traits&lt;SM80_16x8x16_F16F16F16F16_TN&gt;</c> (ALayout, BLayout) and <c>SM80_16x8_Row</c> (CLayout). Each maps
/// (thread, value) to a column-major index into the (M, K), (N, K) or (M, N) tile.</item>
/// <item>ldmatrix .m8n8 .b16, x1/x2/x4, with and without .trans: PTX ISA, "Warp-level matrix load instruction:
/// ldmatrix" (thread T receives row T / 4, elements 2·(T % 4) and 2·(T % 4) + 1 of matrix i in register i; threads
/// 8i … 8i + 7 supply matrix i's row addresses; .trans delivers the transpose).</item>
/// </list>
/// </summary>
public sealed class FragmentLayoutTests
{
    private const string Kernels = """
        // Lane l packs its A, B values (value v in half v % 2 of register v / 2) and runs one MMA.
        extern "C" __global__ void mma_layout(const unsigned short* a, const unsigned short* b, float* d, int bf16)
        {
            const int lane = threadIdx.x;
            unsigned ra[4], rb[2];
            for (int r = 0; r < 4; ++r) ra[r] = a[lane * 8 + 2 * r] | (unsigned)a[lane * 8 + 2 * r + 1] << 16;
            for (int r = 0; r < 2; ++r) rb[r] = b[lane * 4 + 2 * r] | (unsigned)b[lane * 4 + 2 * r + 1] << 16;
            float acc[4] = {0.0f, 0.0f, 0.0f, 0.0f};
            if (bf16) mma_16x8x16_bf16(acc, ra, rb); else mma_16x8x16_f16(acc, ra, rb);
            for (int v = 0; v < 4; ++v) d[lane * 4 + v] = acc[v];
        }

        // Shared memory holds element ids; row j of matrix i (i = lane / 8 for the lane naming it) starts at
        // ((i * 8 + j) * 3 % 32) * 24 halves, so the rows are scattered and 48 bytes apart at least.
        extern "C" __global__ void ldmatrix_layout(unsigned* out, int count, int trans)
        {
            extern __shared__ __align__(16) unsigned short tile[];
            for (int e = threadIdx.x; e < 32 * 24; e += 32) tile[e] = (unsigned short)e;
            __syncthreads();
            const int lane = threadIdx.x;
            const unsigned short* row = tile + ((lane % (8 * count)) * 3 % 32) * 24;
            unsigned r[4] = {0, 0, 0, 0};
            if (count == 1) { if (trans) ldmatrix_x1_trans(r, row); else ldmatrix_x1(r, row); }
            if (count == 2) { if (trans) ldmatrix_x2_trans(r, row); else ldmatrix_x2(r, row); }
            if (count == 4) { if (trans) ldmatrix_x4_trans(r, row); else ldmatrix_x4(r, row); }
            for (int i = 0; i < 4; ++i) out[lane * 4 + i] = r[i];
        }
        """;

    // CuTe (thread, value) → column-major index: thread = t0 + 4·t1, value = v0 + 2·v1 (+ 4·v2).
    private static int ALayout(int t, int v) => 32 * (t % 4) + t / 4 + 16 * (v % 2) + 8 * (v / 2 % 2) + 128 * (v / 4);  // (M16, K16)

    private static int BLayout(int t, int v) => 16 * (t % 4) + t / 4 + 8 * (v % 2) + 64 * (v / 2);  // (N8, K16)

    private static int CLayout(int t, int v) => 32 * (t % 4) + t / 4 + 16 * (v % 2) + 8 * (v / 2);  // (M16, N8)

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Mma_m16n8k16_follows_the_cute_layouts(bool bf16)
    {
        var random = new Random(bf16 ? 2 : 1);
        double[,] a = new double[16, 16], b = new double[16, 8];
        ushort[] aFragments = new ushort[32 * 8], bFragments = new ushort[32 * 4];
        for (int t = 0; t < 32; t++)
        {
            for (int v = 0; v < 8; v++)
            {
                int index = ALayout(t, v);
                int m = index % 16, k = index / 16;
                a[m, k] = Small(random);
                aFragments[t * 8 + v] = Bits(a[m, k], bf16);
            }

            for (int v = 0; v < 4; v++)
            {
                int index = BLayout(t, v);
                int n = index % 8, k = index / 8;
                b[k, n] = Small(random);
                bFragments[t * 4 + v] = Bits(b[k, n], bf16);
            }
        }

        using var deviceA = DeviceBuffers.Upload(CudaDevice.Emulator, aFragments);
        using var deviceB = DeviceBuffers.Upload(CudaDevice.Emulator, bFragments);
        float[] d = Run<float>(32 * 4, "mma_layout", 0, output => new KernelArguments().Add(deviceA).Add(deviceB).Add(output).Add(bf16 ? 1 : 0));
        for (int t = 0; t < 32; t++)
        {
            for (int v = 0; v < 4; v++)
            {
                int index = CLayout(t, v);
                int m = index % 16, n = index / 16;
                double expected = 0;
                for (int k = 0; k < 16; k++)
                {
                    expected += a[m, k] * b[k, n];
                }

                Assert.True(expected == d[t * 4 + v], $"lane {t} value {v} (D[{m},{n}]): {d[t * 4 + v]}, expected {expected}");
            }
        }
    }

    [Theory]
    [InlineData(1, false)]
    [InlineData(2, false)]
    [InlineData(4, false)]
    [InlineData(1, true)]
    [InlineData(2, true)]
    [InlineData(4, true)]
    public void Ldmatrix_follows_the_ptx_isa(int count, bool trans)
    {
        uint[] registers = Run<uint>(32 * 4, "ldmatrix_layout", 32 * 24 * 2, output => new KernelArguments().Add(output).Add(count).Add(trans ? 1 : 0));
        for (int t = 0; t < 32; t++)
        {
            for (int i = 0; i < 4; i++)
            {
                uint got = registers[t * 4 + i];
                if (i >= count)
                {
                    Assert.Equal(0u, got);
                    continue;
                }

                // Element (row, col) of matrix i is tile[start(i, row) + col]; the tile holds its own ids.
                int Element(int row, int col) => (i * 8 + row) * 3 % 32 * 24 + col;
                int first = trans ? Element(2 * (t % 4), t / 4) : Element(t / 4, 2 * (t % 4));
                int second = trans ? Element(2 * (t % 4) + 1, t / 4) : Element(t / 4, 2 * (t % 4) + 1);
                Assert.Equal((uint)first | (uint)second << 16, got);
            }
        }
    }

    // Small integers and halves: exact in fp16, bf16 and every partial sum, so the MMA's result is exact too.
    private static double Small(Random random) => random.Next(-8, 9) / 2.0;

    private static ushort Bits(double value, bool bf16) =>
        bf16 ? BitConverter.ToUInt16(BitConverter.GetBytes((float)value), 2) : BitConverter.HalfToUInt16Bits((Half)value);

    // One warp of `entry` on the emulator, writing `outputLength` values into a buffer of its own.
    private static T[] Run<T>(int outputLength, string entry, int sharedBytes, Func<DeviceBuffer<T>, KernelArguments> arguments)
        where T : unmanaged
    {
        CudaDevice device = CudaDevice.Emulator;
        using var stream = new CudaStream(device);
        using var buffer = new DeviceBuffer<T>(outputLength, device);
        KernelCache.GetOrLoad(device, Kernels, entry).Launch(stream, (1, 1, 1), (32, 1, 1), sharedBytes, arguments(buffer));
        var values = new T[buffer.Length];
        buffer.CopyTo(values);
        return values;
    }
}
