using System;
using System.Collections.Immutable;
using System.Linq;
using KernelDsl.Generator.Diagnostics;
using KernelDsl.Generator.Emitting.Launch;
using KernelDsl.Generator.Model;
using KernelDsl.Generator.Parsing;
using KernelDsl.Generator.Planning;
using KernelDsl.Generator.Validation;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Text;

namespace KernelDsl.Generator;

/// <summary>
/// The KernelDsl source generator. Each [Gemm] and [RingAttention] type flows Parse → Validate → Plan → Emit; every
/// step's output is an equatable model, so an edit that does not touch a kernel re-runs nothing after Parse.
/// Validation reports a description that is out of range; planning reports one whose tiling does not exist; only a
/// plan is emitted. Step names are tracked per kind for the incrementality tests.
/// </summary>
[Generator(LanguageNames.CSharp)]
public sealed class KernelDslGenerator : IIncrementalGenerator
{
    /// <summary>Tracking names of the pipeline steps (tests assert their run reasons).</summary>
    public static class Steps
    {
        /// <summary>A [Gemm] type's attribute values read into a spec.</summary>
        public const string GemmParse = "GemmParse";
        /// <summary>A GEMM spec checked; diagnostics produced.</summary>
        public const string GemmValidate = "GemmValidate";
        /// <summary>A GEMM plan, or the diagnostics of a tiling that does not exist.</summary>
        public const string GemmPlan = "GemmPlan";
        /// <summary>A [RingAttention] type's attribute values read into a spec.</summary>
        public const string AttentionParse = "AttentionParse";
        /// <summary>An attention spec checked.</summary>
        public const string AttentionValidate = "AttentionValidate";
        /// <summary>An attention plan, or its diagnostics.</summary>
        public const string AttentionPlan = "AttentionPlan";
        /// <summary>Tuning attributes found on classes without a kernel attribute.</summary>
        public const string Orphans = "Orphans";
    }

    /// <inheritdoc />
    public void Initialize(IncrementalGeneratorInitializationContext context)
    {
        var gemmSpecs = context.SyntaxProvider
            .ForAttributeWithMetadataName(AttributeNames.Gemm, static (node, _) => node is TypeDeclarationSyntax, GemmParser.Parse)
            .WithTrackingName(Steps.GemmParse);
        var attentionSpecs = context.SyntaxProvider
            .ForAttributeWithMetadataName(AttributeNames.RingAttention, static (node, _) => node is TypeDeclarationSyntax, AttentionParser.Parse)
            .WithTrackingName(Steps.AttentionParse);

        // Roslyn compares hint names without case: kernels whose names differ only in case get distinct files.
        var foldedNames = gemmSpecs.Select(static (spec, _) => spec.Kernel.MetadataName).Collect()
            .Combine(attentionSpecs.Select(static (spec, _) => spec.Kernel.MetadataName).Collect())
            .Select(static (names, _) => HintNames.CaseCollisions(names.Left.AddRange(names.Right)));

        var gemmPlans = gemmSpecs
            .Select(static (spec, _) => (Spec: spec, Diagnostics: GemmValidator.Validate(spec)))
            .WithTrackingName(Steps.GemmValidate)
            .Select(static (v, _) => v.Diagnostics.Count > 0 ? new Planned<GemmPlan>(null, v.Diagnostics) : GemmPlanner.Plan(v.Spec))
            .WithTrackingName(Steps.GemmPlan);
        context.RegisterSourceOutput(gemmPlans.Select(static (p, _) => p.Diagnostics), ReportAll);
        context.RegisterSourceOutput(gemmPlans.Where(static p => p.Plan is not null).Select(static (p, _) => p.Plan!).Combine(foldedNames),
            static (output, pair) => Add(output, pair.Left.Kernel, pair.Right, GemmLaunchEmitter.Emit(pair.Left)));

        var attentionPlans = attentionSpecs
            .Select(static (spec, _) => (Spec: spec, Diagnostics: AttentionValidator.Validate(spec)))
            .WithTrackingName(Steps.AttentionValidate)
            .Where(static v => !v.Spec.Attributes.Has(AttributeNames.Gemm) || v.Diagnostics.Count > 0)
            .Select(static (v, _) => v.Diagnostics.Count > 0 ? new Planned<AttentionPlan>(null, v.Diagnostics) : AttentionPlanner.Plan(v.Spec))
            .WithTrackingName(Steps.AttentionPlan);
        context.RegisterSourceOutput(attentionPlans.Select(static (p, _) => p.Diagnostics), ReportAll);
        context.RegisterSourceOutput(attentionPlans.Where(static p => p.Plan is not null).Select(static (p, _) => p.Plan!).Combine(foldedNames),
            static (output, pair) => Add(output, pair.Left.Kernel, pair.Right, AttentionLaunchEmitter.Emit(pair.Left)));

        // One catalog per assembly: the visit line of every planned kernel that top-level code can name.
        var gemmVisits = gemmPlans.Select(static (p, _) => p.Plan is null ? null : AssemblyKernelsEmitter.GemmVisit(p.Plan)).Collect();
        var attentionVisits = attentionPlans.Select(static (p, _) => p.Plan is null ? null : AssemblyKernelsEmitter.AttentionVisit(p.Plan)).Collect();
        context.RegisterSourceOutput(gemmVisits.Combine(attentionVisits).Select(static (visits, _) => Listed(visits.Left.AddRange(visits.Right))),
            static (output, visits) => output.AddSource(AssemblyKernelsEmitter.HintName,
                SourceText.From(AssemblyKernelsEmitter.Emit(visits.AsImmutableArray()), System.Text.Encoding.UTF8)));

        foreach (string tuning in AttributeNames.Tuning)
        {
            var orphans = context.SyntaxProvider
                .ForAttributeWithMetadataName(tuning, static (node, _) => node is TypeDeclarationSyntax, (ctx, _) => OrphanCheck.Check(ctx, tuning))
                .WithTrackingName(Steps.Orphans);
            context.RegisterSourceOutput(orphans, ReportAll);
        }
    }

    private static EquatableArray<string> Listed(ImmutableArray<string?> visits) => visits.OfType<string>().ToImmutableArray().ToEquatableArray();

    private static void Add(SourceProductionContext output, KernelIdentity kernel, EquatableArray<string> caseCollisions, string text)
        => output.AddSource(HintNames.For(kernel, caseCollisions), SourceText.From(text, System.Text.Encoding.UTF8));

    private static void ReportAll(SourceProductionContext output, EquatableArray<DiagnosticInfo> diagnostics)
    {
        foreach (var diagnostic in diagnostics)
        {
            output.ReportDiagnostic(diagnostic.ToDiagnostic());
        }
    }
}
