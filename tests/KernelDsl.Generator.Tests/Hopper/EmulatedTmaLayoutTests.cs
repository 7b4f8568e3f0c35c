using System;
using KernelDsl.Cuda;
using KernelDsl.Generator.Emitting;
using KernelDsl.Generator.Emitting.Cuda;
using Xunit;

namespace KernelDsl.Generator.Tests.Hopper;

/// <summary>
/// Where the emulator's TMA copy puts each element of a box in shared memory, read back plainly, against the layout
/// the swizzle modes are documented to have: with a span of S bytes, 16-byte chunk c of box row r lands at chunk
/// c ^ ((r · S / 128) mod (S / 16)) of its row, a pattern that repeats every 8 rows (256, 512 and 1024 bytes; CUDA C++
/// Programming Guide, "Tensor Memory Access: swizzle modes"; CuTe's Swizzle&lt;1|2|3, 4, 3&gt;). Elements outside the
/// tensor, before it or past it, arrive as zeros.
/// </summary>
public sealed class EmulatedTmaLayoutTests
{
    private const int Width = 48, Height = 12, BoxRows = 16;

    private static readonly string Kernel = Prelude() + """
        extern "C" __global__ void tma_box(const __grid_constant__ tensor_map map, unsigned short* out, int x, int y, int count)
        {
            extern __shared__ __align__(16) unsigned char shared_bytes[];
            unsigned char* const box = shared_bytes + (1024 - shared_address(shared_bytes) % 1024) % 1024;
            unsigned long long* const bar = reinterpret_cast<unsigned long long*>(box + count * 2);
            if (threadIdx.x == 0) {
                mbarrier_init(bar, 1);
                mbarrier_init_fence();
            }
            __syncthreads();
            if (threadIdx.x == 0) {
                mbarrier_arrive_expect_tx(bar, count * 2);
                tma_load_2d(box, &map, x, y, bar);
            }
            mbarrier_wait(bar, 0);
            for (int i = threadIdx.x; i < count; i += blockDim.x) out[i] = reinterpret_cast<const unsigned short*>(box)[i];
        }
        """;

    [Theory]
    [MemberData(nameof(TmaWgmmaKernel.Swizzles), MemberType = typeof(TmaWgmmaKernel))]
    public void A_box_lands_in_the_documented_swizzle_layout_with_zeros_outside_the_tensor(TensorMapSwizzle swizzle)
    {
        int span = swizzle == TensorMapSwizzle.None ? 64 : (int)swizzle, boxWidth = span / 2, count = boxWidth * BoxRows;
        const int x = 8, y = -2, ld = 56;
        CudaDevice device = CudaDevice.Emulator;
        var tensor = new ushort[Height * ld];
        for (int i = 0; i < tensor.Length; i++)
        {
            tensor[i] = (ushort)(i / ld * 256 + i % ld + 1);  // row * 256 + column + 1: never 0
        }

        using var source = new DeviceBuffer<ushort>(tensor.Length, device);
        using var output = new DeviceBuffer<ushort>(count, device);
        source.CopyFrom(tensor);
        TensorMap map = TensorMap.Encode2D(device, source.Pointer, Element.BF16, Width, Height, ld * 2, boxWidth, BoxRows, swizzle);
        using var stream = new CudaStream(device);
        CudaFunction function = KernelCache.GetOrLoad(device, Kernel, "tma_box");
        function.Launch(stream, (1, 1, 1), (128, 1, 1), count * 2 + 16 + 1024, new KernelArguments().Add(map).Add(output).Add(x).Add(y).Add(count));
        stream.Synchronize();
        var box = new ushort[count];
        output.CopyTo(box);

        int chunks = span / 16, perChunk = 8;
        for (int r = 0; r < BoxRows; r++)
        {
            for (int e = 0; e < boxWidth; e++)
            {
                int chunk = e / perChunk, key = swizzle == TensorMapSwizzle.None ? 0 : r * span / 128 % chunks;
                int stored = r * boxWidth + (chunk ^ key) * perChunk + e % perChunk;
                int gx = x + e, gy = y + r;
                int expected = gx < Width && gy >= 0 && gy < Height ? gy * 256 + gx + 1 : 0;
                Assert.True(expected == box[stored], $"{swizzle}: box ({r}, {e}) at element {stored}: {box[stored]}, expected {expected}");
            }
        }
    }

    [Fact]
    public void Encoding_rejects_what_the_hardware_cannot_copy()
    {
        CudaDevice device = CudaDevice.Emulator;
        using var source = new DeviceBuffer<ushort>(4096, device);
        ulong at = source.Pointer;
        Assert.Contains("16-byte aligned", Assert.Throws<ArgumentException>(
            () => TensorMap.Encode2D(device, at + 2, Element.BF16, 64, 64, 128, 64, 64, TensorMapSwizzle.Bytes128)).Message, StringComparison.Ordinal);
        Assert.Contains("multiple of 16 bytes", Assert.Throws<ArgumentException>(
            () => TensorMap.Encode2D(device, at, Element.BF16, 60, 64, 120, 64, 64, TensorMapSwizzle.Bytes128)).Message, StringComparison.Ordinal);
        Assert.Contains("1 to 256 elements", Assert.Throws<ArgumentException>(
            () => TensorMap.Encode2D(device, at, Element.BF16, 64, 512, 128, 64, 512, TensorMapSwizzle.Bytes128)).Message, StringComparison.Ordinal);
        Assert.Contains("at most 64 bytes", Assert.Throws<ArgumentException>(
            () => TensorMap.Encode2D(device, at, Element.BF16, 64, 64, 128, 64, 64, TensorMapSwizzle.Bytes64)).Message, StringComparison.Ordinal);
        Assert.Contains("box row must be a multiple of 16 bytes", Assert.Throws<ArgumentException>(
            () => TensorMap.Encode2D(device, at, Element.BF16, 64, 64, 128, 4, 64, TensorMapSwizzle.None)).Message, StringComparison.Ordinal);
    }

    private static string Prelude()
    {
        var w = new CodeWriter();
        PtxPrelude.Emit(w, PtxHelpers.AsyncCopy | PtxHelpers.Mbarrier | PtxHelpers.Tma);
        return w + "\n";
    }
}
