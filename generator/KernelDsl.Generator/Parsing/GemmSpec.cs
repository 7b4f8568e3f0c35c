using KernelDsl.Generator.Model;

namespace KernelDsl.Generator.Parsing;

/// <summary>
/// What the user wrote on one [Gemm] class, as plain data: attribute values after defaults,
/// with the location of each attribute so validation can point at the right one.
/// Nothing here is checked yet; see <c>GemmValidator</c>.
/// </summary>
internal sealed record GemmSpec(
    KernelIdentity Kernel,
    KernelClassShape Shape,
    LocationInfo? ClassLocation,
    GemmOperands Operands,
    LocationInfo? GemmLocation,
    TileSpec Tile,
    LocationInfo? TileLocation,
    WarpGrid Warps,
    LocationInfo? WarpsLocation,
    int Stages,
    LocationInfo? PipelineLocation,
    EpilogueSpec Epilogue,
    LocationInfo? EpilogueLocation,
    KernelAttributes Attributes);

/// <summary>Element types and storage order of the operands.</summary>
internal sealed record GemmOperands(Element Element, Element Accumulate, Element Output, bool TransposeA, bool TransposeB);

/// <summary>Block tile: an M×N tile of C per thread block, K deep per pipeline stage.</summary>
internal sealed record TileSpec(int M, int N, int K);

/// <summary>Warps of a thread block along M and N.</summary>
internal sealed record WarpGrid(int M, int N)
{
    public int Count => M * N;
}

/// <summary>The fused epilogue: a per-column bias and an activation (α and β are run-time arguments).</summary>
internal sealed record EpilogueSpec(bool Bias, Activation Activation);
