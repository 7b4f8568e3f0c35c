using System.Globalization;
using KernelDsl.Cpu;

namespace KernelDsl.Tests.Attention;

/// <summary>
/// The shape of one check: P ranks over a global sequence of S tokens, heads and K/V heads, the spread of
/// the inputs, and optionally a forced instruction set. The seed is derived from the description, so a
/// failure names everything needed to rerun it.
/// </summary>
internal sealed record AttentionCase(int Ranks, int SequenceLength, int Heads = 2, int KvHeads = 2)
{
    /// <summary>Multiplies Q, which is uniform in [−1, 1) like K and V: q·k·scale has a standard deviation of about InputScale / 3.</summary>
    public float InputScale { get; init; } = 1f;

    /// <summary>The instruction set to force; null lets the kernel pick the best.</summary>
    public CpuIsa? Isa { get; init; }

    public string Description => string.Create(CultureInfo.InvariantCulture,
        $"P={Ranks} S={SequenceLength} heads={Heads}/{KvHeads} q×{InputScale} isa={(Isa is null ? "best" : Isa.ToString())}");

    /// <summary>FNV-1a of <see cref="Description"/> (string.GetHashCode is randomised per process).</summary>
    public int Seed => StableSeed.Of(Description);

    public override string ToString() => Description + " seed=" + Seed.ToString(CultureInfo.InvariantCulture);
}

/// <summary>
/// The outcome of a check against float64 attention: relative Frobenius errors ‖out − ref‖ / ‖ref‖ of O and
/// of the finite L values, the largest absolute error of O, and for 16-bit elements the same O error of a naive
/// attention in that precision (<see cref="AttentionMath.NaiveSamePrecision"/>); NaN for fp32.
/// </summary>
internal sealed record AttentionOutcome(double ErrorO, double ErrorLse, double MaxErrorO, double NaiveErrorO, double NaiveMaxErrorO)
{
    public override string ToString()
    {
        string errors = string.Create(CultureInfo.InvariantCulture, $"error O {ErrorO:E2} (max {MaxErrorO:E2}), L {ErrorLse:E2}");
        return double.IsNaN(NaiveErrorO)
            ? errors
            : errors + string.Create(CultureInfo.InvariantCulture, $"; naive same-precision O {NaiveErrorO:E2} (max {NaiveMaxErrorO:E2})");
    }
}
