using System.Collections.Generic;
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
        for (var outer = symbol.ContainingType; outer is not null; outer = outer.ContainingType)
        {
            containing.Insert(0, "partial " + TypeKeyword(outer) + " " + NameWithTypeParameters(outer));
        }
        string ns = symbol.ContainingNamespace.IsGlobalNamespace ? "" : symbol.ContainingNamespace.ToDisplayString();
        string qualified = symbol.ToDisplayString(SymbolDisplayFormat.FullyQualifiedFormat
            .WithGlobalNamespaceStyle(SymbolDisplayGlobalNamespaceStyle.Omitted)
            .WithGenericsOptions(SymbolDisplayGenericsOptions.None));
        return new KernelIdentity(ns, symbol.Name, qualified, "partial class " + NameWithTypeParameters(symbol), containing.ToEquatableArray());
    }

    public static bool IsStaticPartial(INamedTypeSymbol symbol, ClassDeclarationSyntax node)
    {
        if (!symbol.IsStatic || !node.Modifiers.Any(SyntaxKind.PartialKeyword))
        {
            return false;
        }
        for (var outer = symbol.ContainingType; outer is not null; outer = outer.ContainingType)
        {
            foreach (var reference in outer.DeclaringSyntaxReferences)
            {
                if (reference.GetSyntax() is TypeDeclarationSyntax declaration && !declaration.Modifiers.Any(SyntaxKind.PartialKeyword))
                {
                    return false;
                }
            }
        }
        return true;
    }

    public static string TypeKeyword(INamedTypeSymbol type) => (type.TypeKind, type.IsRecord) switch
    {
        (TypeKind.Struct, true) => "record struct",
        (TypeKind.Struct, false) => "struct",
        (TypeKind.Interface, _) => "interface",
        (_, true) => "record",
        _ => "class",
    };

    public static string NameWithTypeParameters(INamedTypeSymbol type)
        => type.TypeParameters.Length == 0 ? type.Name : type.Name + "<" + string.Join(", ", type.TypeParameters) + ">";
}
