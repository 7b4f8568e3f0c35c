using System;
using System.Collections.Generic;

namespace KernelDsl.Cpu;

/// <summary>A kernel's CPU blocking for one instruction set, as listed per set in the kernel's <c>Info</c>.</summary>
internal interface ICpuBlocking
{
    CpuIsa Isa { get; }

    /// <summary>The entry of <paramref name="blockings"/> for <paramref name="isa"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">There is none.</exception>
    static T For<T>(IReadOnlyList<T> blockings, CpuIsa isa)
        where T : ICpuBlocking
    {
        foreach (var blocking in blockings)
        {
            if (blocking.Isa == isa)
            {
                return blocking;
            }
        }
        throw new ArgumentOutOfRangeException(nameof(isa), isa, "No CPU blocking for this instruction set.");
    }
}
