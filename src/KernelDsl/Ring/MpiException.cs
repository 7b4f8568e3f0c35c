using System;

namespace KernelDsl.Ring;

/// <summary>An MPI call returned an error code; the message carries Open MPI's own text for it.</summary>
public sealed class MpiException : Exception
{
    internal MpiException(string function, int errorCode, string description)
        : base($"{function} failed: {description} (MPI error {errorCode}).")
    {
        Function = function;
        ErrorCode = errorCode;
    }

    /// <summary>The MPI function that failed, e.g. <c>MPI_Isend</c>.</summary>
    public string Function { get; }

    /// <summary>The error code it returned (an <c>MPI_ERR_*</c> class or an Open MPI code).</summary>
    public int ErrorCode { get; }
}
