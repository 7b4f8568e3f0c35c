using System.Globalization;

namespace KernelDsl.Generator.Emitting;

/// <summary>
/// Literals as the generated C# and CUDA C spell them, culture-independent, so generated text is the same on every
/// machine. Both languages read <c>1.25f</c>, <c>1E-05f</c>, <c>true</c> alike.
/// </summary>
internal static class Literals
{
    public static string Int(int value) => value.ToString(CultureInfo.InvariantCulture);

    /// <summary>A float that reads back to the same bits (round-trip format) with the <c>f</c> suffix.</summary>
    public static string Float(float value) => value.ToString("R", CultureInfo.InvariantCulture) + "f";

    /// <summary>A double that reads back to the same bits, without a suffix (C# reads it as a double).</summary>
    public static string Double(double value) => value.ToString("R", CultureInfo.InvariantCulture);

    public static string Bool(bool value) => value ? "true" : "false";

    /// <summary>A C# string literal of <paramref name="value"/> (backslashes and quotes escaped).</summary>
    public static string String(string value) => "\"" + value.Replace("\\", "\\\\").Replace("\"", "\\\"") + "\"";
}
