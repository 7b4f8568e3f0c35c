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
/// The KernelDsl source generator. Each [Gemm] and [RingAttention] class flows Parse → Validate → Plan → Emit; every
/// step's output is an equatable model, so an edit that does not touch a kernel re-runs nothing
/// after Parse. Step names are tracked for the incrementality tests.
/// </summary>
[Generator(LanguageNames.CSharp)]
public sealed class KernelDslGenerator : IIncrementalGenerator
{
    /// <summary>Tracking names of the pipeline steps (tests assert their run reasons).</summary>
    public static class Steps
    {
        /// <summary>Attribute values read into a spec.</summary>
        public const string Parse = "Parse";
        /// <summary>Spec checked; diagnostics produced.</summary>
        public const string Validate = "Validate";
        /// <summary>Plan derived from a valid spec.</summary>
        public const string Plan = "Plan";
        /// <summary>Tuning attributes found on classes without a kernel attribute.</summary>
        public const string Orphans = "Orphans";
    }

    /// <inheritdoc />
    public void Initialize(IncrementalGeneratorInitializationContext context)
    {
        var specs = context.SyntaxProvider
            .ForAttributeWithMetadataName(AttributeNames.Gemm, static (node, _) => node is ClassDeclarationSyntax, GemmParser.Parse)
            .WithTrackingName(Steps.Parse);

        var validated = specs
            .Select(static (spec, _) => new ValidatedSpec(spec, GemmValidator.Validate(spec)))
            .WithTrackingName(Steps.Validate);

        context.RegisterSourceOutput(validated.Select(static (v, _) => v.Diagnostics), ReportAll);

        var plans = validated
            .Where(static v => v.Diagnostics.Count == 0)
            .Select(static (v, _) => GemmPlanner.Plan(v.Spec))
            .WithTrackingName(Steps.Plan);

        context.RegisterSourceOutput(plans, static (output, plan) =>
            output.AddSource(plan.Kernel.QualifiedName + ".g.cs", SourceText.From(GemmLaunchEmitter.Emit(plan), System.Text.Encoding.UTF8)));

        var attentionValidated = context.SyntaxProvider
            .ForAttributeWithMetadataName(AttributeNames.RingAttention, static (node, _) => node is ClassDeclarationSyntax, AttentionParser.Parse)
            .WithTrackingName(Steps.Parse)
            .Select(static (spec, _) => new ValidatedAttention(spec, AttentionValidator.Validate(spec)))
            .WithTrackingName(Steps.Validate);

        context.RegisterSourceOutput(attentionValidated.Select(static (v, _) => v.Diagnostics), ReportAll);

        var attentionPlans = attentionValidated
            .Where(static v => v.Diagnostics.Count == 0 && !v.Spec.Attributes.Has(AttributeNames.Gemm))
            .Select(static (v, _) => AttentionPlanner.Plan(v.Spec))
            .WithTrackingName(Steps.Plan);

        context.RegisterSourceOutput(attentionPlans, static (output, plan) =>
            output.AddSource(plan.Kernel.QualifiedName + ".g.cs", SourceText.From(AttentionLaunchEmitter.Emit(plan), System.Text.Encoding.UTF8)));

        foreach (string tuning in AttributeNames.Tuning)
        {
            var orphans = context.SyntaxProvider
                .ForAttributeWithMetadataName(tuning, static (node, _) => node is ClassDeclarationSyntax, (ctx, _) => OrphanCheck.Check(ctx, tuning))
                .WithTrackingName(Steps.Orphans);
            context.RegisterSourceOutput(orphans, ReportAll);
        }
    }

    private static void ReportAll(SourceProductionContext output, EquatableArray<DiagnosticInfo> diagnostics)
    {
        foreach (var diagnostic in diagnostics)
        {
            output.ReportDiagnostic(diagnostic.ToDiagnostic());
        }
    }

    private sealed record ValidatedSpec(GemmSpec Spec, EquatableArray<DiagnosticInfo> Diagnostics);

    private sealed record ValidatedAttention(AttentionSpec Spec, EquatableArray<DiagnosticInfo> Diagnostics);
}
