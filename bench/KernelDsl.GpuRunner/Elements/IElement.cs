using System;

namespace KernelDsl.GpuRunner;

/// <summary>What the runner needs to know of one element type: conversions, the NaN used to poison, names, the check's tolerance.</summary>
/// <typeparam name="T">The storage type: <see cref="float"/>, <see cref="Half"/> or <see cref="BFloat16"/>.</typeparam>
internal interface IElement<T>
    where T : unmanaged
{
    /// <summary>Short name as in the attributes: F32, F16, BF16.</summary>
    static abstract string Name { get; }

    /// <summary>cudaDataType_t of the element (library_types.h).</summary>
    static abstract int CudaDataType { get; }

    /// <summary>Relative error a GEMM or attention output of this type may have against the float64 reference.</summary>
    static abstract double Tolerance { get; }

    /// <summary>A quiet NaN of this type.</summary>
    static abstract T NaN { get; }

    /// <summary>Rounds to nearest even.</summary>
    static abstract T From(float value);

    /// <summary>Widens exactly.</summary>
    static abstract double ToDouble(T value);

    /// <summary>Whether the value is NaN (an unwritten, poisoned element).</summary>
    static abstract bool IsNaN(T value);
}
