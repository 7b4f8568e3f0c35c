using System;
using System.Collections.Generic;

namespace KernelDsl.Cuda;

/// <summary>Thrown when no NVRTC shared library could be loaded on this machine.</summary>
public sealed class NvrtcUnavailableException : Exception
{
    internal NvrtcUnavailableException(IReadOnlyList<string> triedNames)
        : this(
            triedNames,
            $"NVRTC could not be loaded (tried {string.Join(", ", triedNames)}). Install the CUDA toolkit's " +
            "NVRTC; on Debian enable the 'non-free' component and run 'apt-get install libnvrtc11.2'.")
    {
    }

    internal NvrtcUnavailableException(IReadOnlyList<string> triedNames, string message)
        : base(message)
    {
        TriedNames = triedNames;
    }

    /// <summary>The library names probed, in order.</summary>
    public IReadOnlyList<string> TriedNames { get; }
}
