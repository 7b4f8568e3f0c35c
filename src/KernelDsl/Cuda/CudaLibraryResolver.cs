using System;
using System.Collections.Generic;
using System.Reflection;
using System.Runtime.InteropServices;
using System.Threading;

namespace KernelDsl.Cuda;

/// <summary>
/// Maps the logical library names used in <c>[LibraryImport]</c> to the sonames the CUDA
/// toolkits actually ship. The runtime allows one resolver per assembly, so this class owns
/// it for every CUDA library bound that way: the driver's <c>libcuda.so.1</c>. (NVRTC is bound
/// per loaded library instead, so that several can be open at once: see <see cref="NvrtcLibrary"/>.)
/// </summary>
internal static class CudaLibraryResolver
{
    private static readonly Dictionary<string, string[]> Candidates = new(StringComparer.Ordinal)
    {
        // The driver ships with the kernel module, not the toolkit: one soname, whatever the
        // CUDA version. The bare name is the toolkit's link-time stub, tried last.
        [CudaDriver.LibraryName] = ["libcuda.so.1", "libcuda.so"],
    };

    private static readonly Dictionary<string, IntPtr> Loaded = new(StringComparer.Ordinal);
    private static int installed;

    /// <summary>Installs the assembly's resolver; safe to call any number of times.</summary>
    internal static void Install()
    {
        if (Interlocked.Exchange(ref installed, 1) == 0)
        {
            NativeLibrary.SetDllImportResolver(typeof(CudaLibraryResolver).Assembly, Resolve);
        }
    }

    /// <summary>The sonames probed for <paramref name="name"/>, in order.</summary>
    internal static IReadOnlyList<string> CandidatesFor(string name) => Candidates[name];

    /// <summary>Loads the first candidate that opens; the handle is cached for the process.</summary>
    internal static bool TryLoad(string name, out IntPtr handle)
    {
        lock (Loaded)
        {
            if (Loaded.TryGetValue(name, out handle))
            {
                return true;
            }

            foreach (string candidate in Candidates[name])
            {
                if (NativeLibrary.TryLoad(candidate, out handle))
                {
                    Loaded[name] = handle;
                    return true;
                }
            }

            return false;
        }
    }

    // Returning zero hands the name back to the default probing, which then fails with
    // DllNotFoundException; callers check availability first to throw a clearer error.
    private static IntPtr Resolve(string libraryName, Assembly assembly, DllImportSearchPath? searchPath) =>
        Candidates.ContainsKey(libraryName) && TryLoad(libraryName, out IntPtr handle) ? handle : IntPtr.Zero;
}
