using System;
using System.Collections.Generic;
using System.Runtime.InteropServices;

namespace KernelDsl;

/// <summary>
/// A native library bound by looking up exports one by one (function pointers), so a library that
/// lacks some of them is reported as a whole — "lacks X, Y" — instead of failing at the first call.
/// </summary>
internal sealed class NativeExports
{
    private readonly IntPtr library;
    private readonly List<string> missing = [];

    private NativeExports(IntPtr library) => this.library = library;

    /// <summary>The exports asked for that the library does not have.</summary>
    public IReadOnlyList<string> Missing => missing;

    /// <summary>The first of <paramref name="candidates"/> that loads, or null when none does.</summary>
    public static NativeExports? LoadFirst(IReadOnlyList<string> candidates)
    {
        foreach (string candidate in candidates)
        {
            if (NativeLibrary.TryLoad(candidate, out IntPtr library))
            {
                return new NativeExports(library);
            }
        }
        return null;
    }

    /// <summary>The exports of <paramref name="library"/>, a handle from <see cref="NativeLibrary.Load(string)"/>.</summary>
    public static NativeExports Of(IntPtr library) => new(library);

    /// <summary>The export's address, or zero (and remembered in <see cref="Missing"/>).</summary>
    public IntPtr Export(string name)
    {
        if (NativeLibrary.TryGetExport(library, name, out IntPtr address))
        {
            return address;
        }
        missing.Add(name);
        return IntPtr.Zero;
    }
}
