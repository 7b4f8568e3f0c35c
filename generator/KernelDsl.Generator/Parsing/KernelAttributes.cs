using System.Linq;
using KernelDsl.Generator.Model;
using Microsoft.CodeAnalysis;

namespace KernelDsl.Generator.Parsing;

/// <summary>
/// Which KernelDsl attributes (short names) and which [Tile] properties a class carries, so
/// validation can tell a kernel's own tuning from attributes meant for another kind of kernel.
/// </summary>
internal sealed record KernelAttributes(EquatableArray<string> Present, EquatableArray<string> TileProperties, LocationInfo? TileLocation)
{
    public bool Has(string metadataName) => Present.Contains(AttributeNames.ShortName(metadataName));

    public static KernelAttributes Of(INamedTypeSymbol symbol)
    {
        var attributes = symbol.GetAttributes();
        var present = attributes
            .Select(a => a.AttributeClass?.ToDisplayString())
            .Where(name => name is not null && (AttributeNames.Kernels.Contains(name) || AttributeNames.Tuning.Contains(name)))
            .Select(name => AttributeNames.ShortName(name!))
            .OrderBy(name => name, System.StringComparer.Ordinal);
        var tile = AttributeReader.Find(attributes, AttributeNames.Tile);
        var tileProperties = new[] { "M", "N", "K", "Q", "KV" }.Where(tile.IsSet);
        return new KernelAttributes(present.ToEquatableArray(), tileProperties.ToEquatableArray(), tile.Location);
    }
}
