using KernelDsl.Generator.Diagnostics;
using KernelDsl.Generator.Model;

namespace KernelDsl.Generator.Planning;

/// <summary>
/// What planning a validated spec gives: a plan, or the diagnostics that say why no tiling of the request exists
/// (a tile the warps do not divide, no lane split, shared memory or registers over the budget). Exactly one is set.
/// </summary>
internal sealed record Planned<TPlan>(TPlan? Plan, EquatableArray<DiagnosticInfo> Diagnostics)
    where TPlan : class
{
    public static Planned<TPlan> Of(TPlan plan) => new(plan, EquatableArray<DiagnosticInfo>.Empty);

    public static Planned<TPlan> Rejected(Validation.Findings found) => new(null, found.ToEquatableArray());
}
