using System.Collections.Immutable;
using System.Linq;
using KernelDsl.Generator.Model;
using Microsoft.CodeAnalysis;

namespace KernelDsl.Generator.Parsing;

/// <summary>Reads one attribute's constructor and named arguments, falling back to the documented defaults.</summary>
internal readonly struct AttributeReader(AttributeData? data)
{
    public bool Exists => data is not null;

    public LocationInfo? Location => LocationInfo.From(data?.ApplicationSyntaxReference?.GetSyntax());

    public T Argument<T>(int index, T fallback)
    {
        if (data is null || index >= data.ConstructorArguments.Length)
        {
            return fallback;
        }
        return data.ConstructorArguments[index].Value is T value ? value : fallback;
    }

    public T Named<T>(string name, T fallback)
    {
        if (data is null)
        {
            return fallback;
        }
        foreach (var pair in data.NamedArguments)
        {
            if (pair.Key == name && pair.Value.Value is T value)
            {
                return value;
            }
        }
        return fallback;
    }

    /// <summary>Whether the user wrote <paramref name="name"/> = … (defaults don't count).</summary>
    public bool IsSet(string name) => data is not null && data.NamedArguments.Any(pair => pair.Key == name);

    public static AttributeReader Find(ImmutableArray<AttributeData> attributes, string metadataName)
        => new(attributes.FirstOrDefault(a => a.AttributeClass?.ToDisplayString() == metadataName));
}
