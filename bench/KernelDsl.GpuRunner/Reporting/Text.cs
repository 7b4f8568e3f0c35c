using System.Globalization;

namespace KernelDsl.GpuRunner;

/// <summary>Formatting for the human tables.</summary>
internal static class Text
{
    public static string F(double value, string format) => double.IsFinite(value) ? value.ToString(format, CultureInfo.InvariantCulture) : "n/a";

    public static string E(double value) => F(value, "0.00e+00");
}
