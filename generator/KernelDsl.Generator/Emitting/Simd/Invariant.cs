using System.Globalization;

namespace KernelDsl.Generator.Emitting.Simd;

/// <summary>Culture-independent number formatting, so generated text is the same on every machine.</summary>
internal static class Invariant
{
    public static string Int(int value) => value.ToString(CultureInfo.InvariantCulture);

    /// <summary>A size in bytes as KiB or MiB, e.g. <c>16 KiB</c>, <c>2 MiB</c>, <c>252 KiB</c>.</summary>
    public static string Bytes(long bytes)
        => bytes >= 1024 * 1024 && bytes % (1024 * 1024) == 0
            ? (bytes / (1024 * 1024)).ToString(CultureInfo.InvariantCulture) + " MiB"
            : (bytes / 1024.0).ToString("0.#", CultureInfo.InvariantCulture) + " KiB";
}
