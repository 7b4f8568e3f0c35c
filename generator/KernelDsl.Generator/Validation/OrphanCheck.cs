using System.Linq;
using KernelDsl.Generator.Diagnostics;
using KernelDsl.Generator.Model;
using KernelDsl.Generator.Parsing;
using Microsoft.CodeAnalysis;

namespace KernelDsl.Generator.Validation;

/// <summary>
/// A tuning attribute ([Tile], [Warps], [Pipeline], [Epilogue]) on a class that declares no kernel
/// would silently generate nothing: report it where it stands.
/// </summary>
internal static class OrphanCheck
{
    public static EquatableArray<DiagnosticInfo> Check(GeneratorAttributeSyntaxContext context, string tuningAttribute)
    {
        bool hasKernel = context.TargetSymbol.GetAttributes()
            .Any(a => AttributeNames.Kernels.Contains(a.AttributeClass?.ToDisplayString()));
        if (hasKernel)
        {
            return EquatableArray<DiagnosticInfo>.Empty;
        }
        string name = AttributeNames.ShortName(tuningAttribute);
        var where = LocationInfo.From(context.Attributes[0].ApplicationSyntaxReference?.GetSyntax());
        return new[]
        {
            DiagnosticInfo.Create(DiagnosticDescriptors.ConflictingKernelAttributes, where, context.TargetSymbol.Name,
                "[" + name + "] tunes a kernel, but the class declares none; add [Gemm(...)] or remove [" + name + "]"),
        }.ToEquatableArray();
    }
}
