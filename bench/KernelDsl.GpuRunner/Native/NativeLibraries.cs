using System;
using System.Collections.Generic;
using System.Runtime.InteropServices;

namespace KernelDsl.GpuRunner;

/// <summary>Opens the first shared library of a list that loads and looks up its exports (function pointers: no marshalling, trim-safe).</summary>
internal sealed class NativeLibraries
{
    private NativeLibraries(IntPtr handle, string path)
    {
        Handle = handle;
        Path = path;
    }

    /// <summary>The dlopen handle.</summary>
    public IntPtr Handle { get; }

    /// <summary>The name or path that loaded.</summary>
    public string Path { get; }

    /// <summary>The first of <paramref name="candidates"/> that loads, or null; <paramref name="tried"/> says what failed.</summary>
    public static NativeLibraries? TryOpen(IEnumerable<string> candidates, out string tried)
    {
        var failed = new List<string>();
        foreach (string candidate in candidates)
        {
            if (string.IsNullOrWhiteSpace(candidate))
            {
                continue;
            }
            if (NativeLibrary.TryLoad(candidate, out IntPtr handle))
            {
                tried = string.Join(", ", failed);
                return new NativeLibraries(handle, candidate);
            }
            failed.Add(candidate);
        }
        tried = string.Join(", ", failed);
        return null;
    }

    /// <summary>The address of <paramref name="name"/>, the first of several that exists.</summary>
    /// <exception cref="EntryPointNotFoundException">None of the names is exported.</exception>
    public IntPtr Export(params string[] names)
    {
        foreach (string name in names)
        {
            if (NativeLibrary.TryGetExport(Handle, name, out IntPtr address))
            {
                return address;
            }
        }
        throw new EntryPointNotFoundException($"{Path} exports none of: {string.Join(", ", names)}.");
    }
}
