using KernelDsl.Generator.Model;
using Microsoft.CodeAnalysis;

namespace KernelDsl.Generator.Diagnostics;

/// <summary>
/// A diagnostic as plain, equatable data (descriptor ID, location, message arguments as strings),
/// so it can travel through the cached pipeline and be turned into a Roslyn diagnostic at the end.
/// </summary>
internal sealed record DiagnosticInfo(string DescriptorId, LocationInfo? Location, EquatableArray<string> Arguments)
{
    public static DiagnosticInfo Create(DiagnosticDescriptor descriptor, LocationInfo? location, params object[] arguments)
    {
        string[] text = new string[arguments.Length];
        for (int i = 0; i < arguments.Length; i++)
        {
            text[i] = System.Convert.ToString(arguments[i], System.Globalization.CultureInfo.InvariantCulture) ?? "";
        }
        return new DiagnosticInfo(descriptor.Id, location, text.ToEquatableArray());
    }

    public Diagnostic ToDiagnostic()
    {
        DiagnosticDescriptor descriptor = DiagnosticDescriptors.ById(DescriptorId);
        object[] args = new object[Arguments.Count];
        for (int i = 0; i < args.Length; i++)
        {
            args[i] = Arguments[i];
        }
        return Diagnostic.Create(descriptor, Location?.ToLocation() ?? Microsoft.CodeAnalysis.Location.None, args);
    }
}
