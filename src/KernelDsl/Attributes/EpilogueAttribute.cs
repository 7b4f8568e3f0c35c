using System;

namespace KernelDsl;

/// <summary>
/// What happens to the accumulator before it is stored:
/// <c>C ← act(α·acc + β·C + bias)</c>. α and β are run-time arguments (β = 0 never reads C);
/// the bias vector (length N, one value per output column) and the activation are fixed here.
/// </summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false, Inherited = false)]
public sealed class EpilogueAttribute : Attribute
{
    /// <summary>Adds a bias vector of length N (broadcast over rows); <c>Run</c> then takes a <c>bias</c> argument.</summary>
    public bool Bias { get; set; }

    /// <summary>The activation applied last.</summary>
    public Activation Activation { get; set; } = Activation.None;
}
