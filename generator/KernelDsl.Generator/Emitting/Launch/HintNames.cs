using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using KernelDsl.Generator.Model;

namespace KernelDsl.Generator.Emitting.Launch;

/// <summary>
/// The name of a kernel's generated file: its <see cref="KernelIdentity.MetadataName"/> (unique per type, legal in a
/// file name) and <c>.g.cs</c>. Roslyn compares hint names ignoring case, so a kernel whose name differs from
/// another's only in case also carries a stable hash of its exact name.
/// </summary>
internal static class HintNames
{
    public static string For(KernelIdentity kernel, EquatableArray<string> caseCollisions) =>
        caseCollisions.Contains(kernel.MetadataName)
            ? $"{kernel.MetadataName}.{Fnv1a(kernel.MetadataName):x8}.g.cs"
            : kernel.MetadataName + ".g.cs";

    /// <summary>The names, of <paramref name="names"/>, that another distinct name equals ignoring case, in order.</summary>
    public static EquatableArray<string> CaseCollisions(ImmutableArray<string> names) =>
        names.Distinct(StringComparer.Ordinal)
            .GroupBy(name => name, StringComparer.OrdinalIgnoreCase)
            .Where(group => group.Count() > 1)
            .SelectMany(group => group)
            .OrderBy(name => name, StringComparer.Ordinal)
            .ToEquatableArray();

    private static uint Fnv1a(string text)
    {
        uint hash = 2166136261;
        foreach (char c in text)
        {
            hash = (hash ^ c) * 16777619;
        }
        return hash;
    }
}
