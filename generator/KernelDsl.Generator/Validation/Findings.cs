using System;
using System.Globalization;
using KernelDsl.Generator.Planning;
using System.Collections.Generic;
using System.Linq;
using KernelDsl.Generator.Diagnostics;
using KernelDsl.Generator.Emitting;
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

    /// <summary>
    /// Whether the generated members can be added to the kernel type: a <c>static partial class</c>, not file-local,
    /// in <c>partial</c> containing types, named unlike the members it gets (<paramref name="generatedMembers"/>), and
    /// the first declaration carrying <paramref name="kernel"/>. Reports each problem; returns whether there was none.
    /// </summary>
    public bool KernelClass(KernelClassShape shape, KernelIdentity identity, LocationInfo? classLocation,
        string kernel, LocationInfo? kernelLocation, IReadOnlyList<string> generatedMembers)
    {
        string className = identity.ClassName;
        int before = items.Count;
        string? why =
            shape.Keyword != "class" ? $"it is a {shape.Keyword}; declare it as a 'static partial class'" :
            !shape.IsStatic || !shape.IsPartial ? "declare it 'static partial' (and every containing type 'partial')" :
            shape.IsFileLocal ? "it is file-local, so the generated 'partial class' in another file would be another type; remove 'file'" :
            null;
        if (why is not null)
        {
            Add(DiagnosticDescriptors.KernelClassNotStaticPartial, classLocation, className, why);
        }
        if (generatedMembers.Contains(className))
        {
            Add(DiagnosticDescriptors.KernelNameCollides, classLocation, className,
                $"has the name of a member the generator adds to a [{kernel}] kernel ({string.Join(", ", generatedMembers)})");
        }
        else if (identity.MetadataName == className && GeneratedMembers.RootNamespaces.Contains(className))
        {
            Add(DiagnosticDescriptors.KernelNameCollides, classLocation, className,
                $"is declared in the global namespace with the name of the namespace global::{className}, which the generated code uses");
        }
        if (!shape.IsFirstKernelDeclaration)
        {
            Add(DiagnosticDescriptors.ConflictingKernelAttributes, kernelLocation, className,
                $"[{kernel}] is on more than one declaration of the partial class; keep it on one");
        }
        return items.Count == before;
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

    /// <summary>The longest tile side any kernel is planned for: a thread block's tile beyond it cannot fit its registers or shared memory.</summary>
    public const int MaxTileSide = 1024;

    /// <summary>A tile side: positive (KD0008) and at most <see cref="MaxTileSide"/> (KD0017).</summary>
    public bool TileSide(string what, int value, LocationInfo? where)
    {
        if (!Positive(what, value, where))
        {
            return false;
        }
        if (value <= MaxTileSide)
        {
            return true;
        }
        Add(DiagnosticDescriptors.ValueOutOfRange, where, what, value.ToString(CultureInfo.InvariantCulture),
            $"a thread block's tile side is at most {MaxTileSide}");
        return false;
    }

    /// <summary>The warps of a block: each count positive, at most 32 warps (1024 threads) in all.</summary>
    /// <param name="nameM">How the first count is named in a message: <c>Warps.M</c>, or <c>Warps</c> where there is one.</param>
    public bool WarpGrid(int m, int n, LocationInfo? where, string nameM = "Warps.M")
    {
        if (!(Positive(nameM, m, where) & Positive("Warps.N", n, where)))
        {
            return false;
        }
        long threads = (long)m * n * 32;
        if (threads <= ArchitectureLimits.MaxThreadsPerBlock)
        {
            return true;
        }
        Add(DiagnosticDescriptors.TooManyThreads, where, m, n, threads);
        return false;
    }

    /// <summary>
    /// <paramref name="tile"/> splits evenly over <paramref name="warps"/> warps along <paramref name="axis"/>; if not,
    /// KD0002 suggests the next tile that does, in whole <paramref name="unit"/>s per warp (16 for tensor cores).
    /// </summary>
    public bool Divides(string axis, int tile, int warps, int unit, LocationInfo? where)
    {
        if (tile % warps == 0)
        {
            return true;
        }
        int step = warps * unit;
        Add(DiagnosticDescriptors.TileNotDivisibleByWarps, where, axis, tile, warps, (tile + step - 1) / step * step);
        return false;
    }

    /// <summary>A thread's registers, <paramref name="needed"/> at least, fit the budget of a block of <paramref name="threads"/> (KD0018).</summary>
    public bool RegistersFit(int needed, int threads, int warpTileM, int warpTileN, LocationInfo? where, string detail)
    {
        int budget = ArchitectureLimits.RegisterBudget(threads);
        if (needed <= budget)
        {
            return true;
        }
        Add(DiagnosticDescriptors.RegistersOverBudget, where, threads, needed,
            FormattableString.Invariant($"{detail} of a {warpTileM}×{warpTileN} warp tile"), budget);
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
