using System.Collections.Generic;
using System.Linq;
using KernelDsl.Generator.Model;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace KernelDsl.Generator.Parsing;

/// <summary>What every kernel class needs read: where its generated members go and whether they can go there.</summary>
internal static class KernelClass
{
    public static KernelIdentity Identity(INamedTypeSymbol symbol)
    {
        var containing = new List<string>();
        var metadata = new List<string> { symbol.MetadataName };
        for (var outer = symbol.ContainingType; outer is not null; outer = outer.ContainingType)
        {
            containing.Insert(0, "partial " + TypeKeyword(outer) + " " + NameWithTypeParameters(outer));
            metadata.Insert(0, outer.MetadataName);
        }
        string ns = symbol.ContainingNamespace.IsGlobalNamespace ? "" : symbol.ContainingNamespace.ToDisplayString();
        if (ns.Length > 0)
        {
            metadata.Insert(0, ns);
        }
        string qualified = symbol.ToDisplayString(SymbolDisplayFormat.FullyQualifiedFormat
            .WithGlobalNamespaceStyle(SymbolDisplayGlobalNamespaceStyle.Omitted)
            .WithGenericsOptions(SymbolDisplayGenericsOptions.None)
            .WithMiscellaneousOptions(SymbolDisplayMiscellaneousOptions.None));
        return new KernelIdentity(ns, symbol.Name, qualified, string.Join(".", metadata),
            "partial class " + NameWithTypeParameters(symbol), containing.ToEquatableArray(), CatalogReference(symbol));
    }

    /// <summary>See <see cref="KernelIdentity.CatalogReference"/>.</summary>
    private static string CatalogReference(INamedTypeSymbol symbol)
    {
        for (var type = symbol; type is not null; type = type.ContainingType)
        {
            bool reachable = type.DeclaredAccessibility is Accessibility.Public or Accessibility.Internal or Accessibility.ProtectedOrInternal;
            if (!reachable || type.TypeParameters.Length > 0)
            {
                return "";
            }
        }
        return symbol.ToDisplayString(SymbolDisplayFormat.FullyQualifiedFormat);
    }

    /// <param name="symbol">The kernel type.</param>
    /// <param name="node">The declaration that carries <paramref name="kernelAttribute"/>.</param>
    /// <param name="kernelAttribute">Metadata name of the kernel attribute this declaration was found by.</param>
    public static KernelClassShape Shape(INamedTypeSymbol symbol, TypeDeclarationSyntax node, string kernelAttribute)
    {
        bool partial = node.Modifiers.Any(SyntaxKind.PartialKeyword);
        bool fileLocal = false;
        for (var type = symbol; type is not null; type = type.ContainingType)
        {
            fileLocal |= type.IsFileLocal;
            if (!SymbolEqualityComparer.Default.Equals(type, symbol))
            {
                partial &= type.DeclaringSyntaxReferences.All(r =>
                    r.GetSyntax() is not TypeDeclarationSyntax declaration || declaration.Modifiers.Any(SyntaxKind.PartialKeyword));
            }
        }
        var first = symbol.DeclaringSyntaxReferences
            .Select(r => r.GetSyntax())
            .OfType<TypeDeclarationSyntax>()
            .FirstOrDefault(declaration => Carries(declaration, symbol, kernelAttribute));
        return new KernelClassShape(TypeKeyword(symbol), symbol.IsStatic, partial, fileLocal, first is null || first == node);
    }

    /// <summary>Whether <paramref name="declaration"/>'s own attribute lists hold <paramref name="kernelAttribute"/>.</summary>
    private static bool Carries(TypeDeclarationSyntax declaration, INamedTypeSymbol symbol, string kernelAttribute) =>
        symbol.GetAttributes().Any(a =>
            a.AttributeClass?.ToDisplayString() == kernelAttribute
            && a.ApplicationSyntaxReference?.GetSyntax() is { } syntax
            && declaration.AttributeLists.Any(list => list.Span.Contains(syntax.Span) && list.SyntaxTree == syntax.SyntaxTree));

    public static string TypeKeyword(INamedTypeSymbol type) => (type.TypeKind, type.IsRecord) switch
    {
        (TypeKind.Struct, true) => "record struct",
        (TypeKind.Struct, false) => "struct",
        (TypeKind.Interface, _) => "interface",
        (_, true) => "record",
        _ => "class",
    };

    /// <summary>The type's name as C# source spells it: <c>@class</c> for a keyword, type parameters in angle brackets.</summary>
    public static string NameWithTypeParameters(INamedTypeSymbol type)
        => type.TypeParameters.Length == 0
            ? Identifier(type.Name)
            : Identifier(type.Name) + "<" + string.Join(", ", type.TypeParameters.Select(t => Identifier(t.Name))) + ">";

    private static string Identifier(string name) => SyntaxFacts.GetKeywordKind(name) == SyntaxKind.None ? name : "@" + name;
}
