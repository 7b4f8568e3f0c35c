using System;

namespace KernelDsl.Ring;

/// <summary>An NCCL call returned an error; the message carries NCCL's own text for it (<c>ncclGetErrorString</c>).</summary>
public sealed class NcclException : Exception
{
    internal NcclException(string function, int result, string description)
        : base($"{function} failed: {description} (ncclResult_t {result}).")
    {
        Function = function;
        Result = result;
    }

    /// <summary>The NCCL function that failed, e.g. <c>ncclCommInitRank</c>.</summary>
    public string Function { get; }

    /// <summary>The <c>ncclResult_t</c> it returned.</summary>
    public int Result { get; }
}
