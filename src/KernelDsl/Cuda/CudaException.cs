using System;

namespace KernelDsl.Cuda;

/// <summary>
/// Thrown when a CUDA driver call returns anything but <c>CUDA_SUCCESS</c>; the message reads
/// <c>cuMemAlloc_v2 failed: CUDA_ERROR_OUT_OF_MEMORY (out of memory)</c>.
/// </summary>
public sealed class CudaException : Exception
{
    internal CudaException(string call, int code, string errorName, string description)
        : base($"{call} failed: {errorName} ({description})")
    {
        Call = call;
        Code = code;
        ErrorName = errorName;
    }

    /// <summary>The driver function that failed, e.g. <c>cuLaunchKernel</c>.</summary>
    public string Call { get; }

    /// <summary>The numeric <c>CUresult</c>.</summary>
    public int Code { get; }

    /// <summary>The <c>CUresult</c>'s name, e.g. <c>CUDA_ERROR_ILLEGAL_ADDRESS</c>.</summary>
    public string ErrorName { get; }
}
