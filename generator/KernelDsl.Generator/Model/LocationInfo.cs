using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Text;

namespace KernelDsl.Generator.Model;

/// <summary>A source location as plain data (no syntax tree reference), so it can live in a cached model.</summary>
internal sealed record LocationInfo(string FilePath, TextSpan Span, LinePositionSpan LineSpan)
{
    public Location ToLocation() => Location.Create(FilePath, Span, LineSpan);

    public static LocationInfo? From(Location? location)
    {
        if (location is null || location.SourceTree is null)
        {
            return null;
        }
        return new LocationInfo(location.SourceTree.FilePath, location.SourceSpan, location.GetLineSpan().Span);
    }

    public static LocationInfo? From(SyntaxNode? node) => From(node?.GetLocation());
}
