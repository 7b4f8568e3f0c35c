using System;
using System.Collections.Generic;
using System.Linq;
using KernelDsl.Generator.Diagnostics;
using KernelDsl.Generator.Model;
using KernelDsl.Generator.Parsing;
using Microsoft.CodeAnalysis;

namespace KernelDsl.Generator.Validation;

/// <summary>The diagnostics one kernel's validation collects, with the checks every kernel kind shares.</summary>
internal sealed class Findings
{
    private readonly List<DiagnosticInfo> items = [];

    public int Count => items.Count;

    public void Add(DiagnosticDescriptor descriptor, LocationInfo? where, params object[] arguments)
        => items.Add(DiagnosticInfo.Create(descriptor, where, arguments));

    public EquatableArray<DiagnosticInfo> ToEquatableArray() => items.ToEquatableArray();

    public void StaticPartial(bool isStaticPartial, LocationInfo? where, string className)
    {
        if (!isStaticPartial)
        {
            Add(DiagnosticDescriptors.KernelClassNotStaticPartial, where, className);
        }
    }

    /// <summary>Reports an enum value cast from an undefined integer; returns whether it is defined.</summary>
    public bool Defined<T>(string what, T value, LocationInfo? where)
        where T : struct, Enum
    {
        if (Enum.IsDefined(typeof(T), value))
        {
            return true;
        }
        Add(DiagnosticDescriptors.UnknownEnumValue, where, what, Convert.ToInt32(value), "KernelDsl." + typeof(T).Name);
        return false;
    }

    public bool Positive(string what, int value, LocationInfo? where)
    {
        if (value > 0)
        {
            return true;
        }
        Add(DiagnosticDescriptors.NonPositiveSize, where, what, value);
        return false;
    }

    /// <summary>
    /// Attributes and [Tile] properties that belong to another kind of kernel would be ignored silently:
    /// each is a KD0007 at the attribute.
    /// </summary>
    public void ForeignTuning(KernelAttributes attributes, string className, LocationInfo? classLocation,
        string kernel, string[] foreignAttributes, string[] foreignTileProperties)
    {
        foreach (string foreign in foreignAttributes.Where(attributes.Has))
        {
            Add(DiagnosticDescriptors.ConflictingKernelAttributes, classLocation, className,
                $"[{AttributeNames.ShortName(foreign)}] does not apply to a [{kernel}] kernel; remove it");
        }
        var misplaced = attributes.TileProperties.Where(foreignTileProperties.Contains).ToArray();
        if (misplaced.Length > 0)
        {
            Add(DiagnosticDescriptors.ConflictingKernelAttributes, attributes.TileLocation, className,
                $"Tile.{string.Join("/", misplaced)} do not apply to a [{kernel}] kernel; set only the properties it uses");
        }
    }
}
