using System.Threading;
using KernelDsl.Generator.Model;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace KernelDsl.Generator.Parsing;

/// <summary>Turns a [RingAttention] class into an <see cref="AttentionSpec"/>, with the attributes' documented defaults.</summary>
internal static class AttentionParser
{
    public static AttentionSpec Parse(GeneratorAttributeSyntaxContext context, CancellationToken cancellationToken)
    {
        var symbol = (INamedTypeSymbol)context.TargetSymbol;
        var node = (TypeDeclarationSyntax)context.TargetNode;
        cancellationToken.ThrowIfCancellationRequested();

        var attributes = symbol.GetAttributes();
        var attention = new AttributeReader(context.Attributes[0]);
        var tile = AttributeReader.Find(attributes, AttributeNames.Tile);
        var warps = AttributeReader.Find(attributes, AttributeNames.Warps);
        var overlap = AttributeReader.Find(attributes, AttributeNames.Overlap);

        return new AttentionSpec(
            KernelClass.Identity(symbol),
            KernelClass.Shape(symbol, node, AttributeNames.RingAttention),
            LocationInfo.From(node.Identifier.GetLocation()),
            attention.Named("HeadDim", 128),
            (Element)attention.Named("Element", (int)Element.F32),
            attention.Named("Causal", false),
            attention.Named("Scale", 0f),
            (RingLayout)attention.Named("Layout", (int)RingLayout.Contiguous),
            attention.Location,
            tile.Named("Q", 128),
            tile.Named("KV", 64),
            warps.Argument(0, 4),
            warps.Argument(1, 1),
            warps.Location,
            overlap.Named("Buffers", 2),
            overlap.Location,
            KernelAttributes.Of(symbol));
    }
}
