using System;
using System.Runtime.CompilerServices;

namespace KernelDsl.Cuda;

/// <summary>
/// A TMA tensor map (the driver's <c>CUtensorMap</c>): how the copy engine of an sm_90 GPU reads boxes of a 2-D
/// row-major tensor in global memory. 128 opaque bytes, encoded once per buffer and shape by the device's driver
/// (<c>cuTensorMapEncodeTiled</c>; the emulator has its own encoding) and passed by value to a kernel's
/// <c>const __grid_constant__ tensor_map</c> parameter with <see cref="KernelArguments.Add(in TensorMap)"/>.
/// </summary>
public readonly struct TensorMap
{
    /// <summary>Bytes of a tensor map, and the alignment a kernel parameter of its type has.</summary>
    public const int Bytes = 128, Alignment = 64;

    /// <summary>The most elements a box may have along either dimension.</summary>
    public const int MaxBoxExtent = 256;

    internal readonly Words Bits;

    internal TensorMap(in Words bits)
    {
        Bits = bits;
    }

    /// <summary>
    /// Encodes the map of a <paramref name="width"/> × <paramref name="height"/> tensor of <paramref name="element"/>s
    /// at <paramref name="address"/> on <paramref name="device"/>, rows <paramref name="rowStrideBytes"/> apart, read in
    /// boxes of <paramref name="boxWidth"/> × <paramref name="boxHeight"/> elements (width is the contiguous dimension).
    /// Elements of a box outside the tensor arrive as zeros.
    /// </summary>
    /// <exception cref="ArgumentException">A rule of <c>cuTensorMapEncodeTiled</c> is broken; the message names it.</exception>
    public static TensorMap Encode2D(
        CudaDevice device, ulong address, Element element, long width, long height, long rowStrideBytes,
        int boxWidth, int boxHeight, TensorMapSwizzle swizzle)
    {
        ArgumentNullException.ThrowIfNull(device);
        int elementBytes = element == Element.F32 ? 4 : 2;
        if (address % 16 != 0)
        {
            throw new ArgumentException($"A tensor map's global address must be 16-byte aligned; 0x{address:x} is not.", nameof(address));
        }

        if (width < 1 || height < 1 || width > uint.MaxValue || height > uint.MaxValue)
        {
            throw new ArgumentException($"A tensor map's sizes must be 1 to 2^32; got {width} x {height}.", nameof(width));
        }

        if (rowStrideBytes % 16 != 0 || rowStrideBytes < width * elementBytes || rowStrideBytes >= 1L << 40)
        {
            throw new ArgumentException(
                $"A tensor map's row stride must be a multiple of 16 bytes, at least a row ({width * elementBytes} bytes) and below 2^40; got {rowStrideBytes}.",
                nameof(rowStrideBytes));
        }

        if (boxWidth < 1 || boxHeight < 1 || boxWidth > MaxBoxExtent || boxHeight > MaxBoxExtent)
        {
            throw new ArgumentException($"A TMA box is 1 to {MaxBoxExtent} elements along each dimension; got {boxWidth} x {boxHeight}.", nameof(boxWidth));
        }

        int rowBytes = boxWidth * elementBytes;
        if (rowBytes % 16 != 0)
        {
            throw new ArgumentException($"A TMA box row must be a multiple of 16 bytes; {boxWidth} {element} elements are {rowBytes}.", nameof(boxWidth));
        }

        if (swizzle != TensorMapSwizzle.None && rowBytes > (int)swizzle)
        {
            throw new ArgumentException(
                $"With {swizzle} swizzling a box row may span at most {(int)swizzle} bytes; {boxWidth} {element} elements are {rowBytes}.",
                nameof(boxWidth));
        }

        return device.Driver.EncodeTensorMap(address, element, (ulong)width, (ulong)height, (ulong)rowStrideBytes, (uint)boxWidth, (uint)boxHeight, swizzle);
    }

    /// <summary>The 16 words of a map.</summary>
    [InlineArray(16)]
    internal struct Words
    {
        private ulong word;
    }
}
