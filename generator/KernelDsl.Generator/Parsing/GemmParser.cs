using System.Threading;
using KernelDsl.Generator.Model;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace KernelDsl.Generator.Parsing;

/// <summary>
/// Turns a [Gemm] class (Roslyn symbols and syntax) into a <see cref="GemmSpec"/>. Defaults here
/// are the ones the attributes document; no judgement is made, so every problem can be reported
/// later with a location.
/// </summary>
internal static class GemmParser
{
    public static GemmSpec Parse(GeneratorAttributeSyntaxContext context, CancellationToken cancellationToken)
    {
        var symbol = (INamedTypeSymbol)context.TargetSymbol;
        var node = (TypeDeclarationSyntax)context.TargetNode;
        cancellationToken.ThrowIfCancellationRequested();

        var attributes = symbol.GetAttributes();
        var gemm = new AttributeReader(context.Attributes[0]);
        var tile = AttributeReader.Find(attributes, AttributeNames.Tile);
        var warps = AttributeReader.Find(attributes, AttributeNames.Warps);
        var pipeline = AttributeReader.Find(attributes, AttributeNames.Pipeline);
        var epilogue = AttributeReader.Find(attributes, AttributeNames.Epilogue);

        int element = gemm.Argument(0, (int)Element.F32);
        var operands = new GemmOperands(
            (Element)element,
            (Element)gemm.Named("Accumulate", (int)Element.F32),
            (Element)gemm.Named("Output", (int)Element.F32),
            gemm.Named("TransposeA", false),
            gemm.Named("TransposeB", false));

        return new GemmSpec(
            KernelClass.Identity(symbol),
            KernelClass.Shape(symbol, node, AttributeNames.Gemm),
            LocationInfo.From(node.Identifier.GetLocation()),
            operands,
            gemm.Location,
            new TileSpec(tile.Named("M", 128), tile.Named("N", 128), tile.Named("K", 16)),
            tile.Location,
            new WarpGrid(warps.Argument(0, 2), warps.Exists ? warps.Argument(1, 1) : 4),
            warps.Location,
            pipeline.Named("Stages", 2),
            pipeline.Location,
            new EpilogueSpec(epilogue.Named("Bias", false), (Activation)epilogue.Named("Activation", (int)Activation.None)),
            epilogue.Location,
            KernelAttributes.Of(symbol));
    }
}
