namespace KernelDsl.Generator.Planning;

/// <summary>
/// Blocking of the CPU attention block kernel for one instruction set: QRows query rows attend KvRows
/// keys at a time (S = Q·Kᵀ of QRows×KvRows, online softmax, O += P·V), vectorised with Lanes floats per vector.
/// </summary>
/// <param name="Registers">Vector registers the register tiles may fill (32 zmm with AVX-512, else 16).</param>
/// <param name="ScoreVectors">
/// Vectors of keys per S register tile: the tile is QRows × ScoreVectors accumulators, fed by ScoreVectors
/// Kᵀ loads and one Q broadcast per head dimension, all in registers.
/// </param>
/// <param name="OutputVectors">
/// Vectors of head dimensions per O register tile: QRows × OutputVectors accumulators, fed by OutputVectors
/// V loads and one P broadcast per key; the tile walks the head dimension in HeadDim / (OutputVectors·Lanes) passes.
/// </param>
/// <param name="TaskRows">Query rows of one parallel task (a multiple of QRows): its K/V tiles are reused by every QRows block of them.</param>
/// <param name="ParallelFlops">Steps with fewer useful flops (4·heads·Sq·Skv·d) run on the calling thread only.</param>
internal sealed record CpuAttentionBlocking(
    CpuIsa Isa, int Lanes, int QRows, int KvRows, int Registers, int ScoreVectors, int OutputVectors, int TaskRows, long ParallelFlops)
{
    /// <summary>Keys per S register tile.</summary>
    public int ScoreKeys => ScoreVectors * Lanes;

    /// <summary>Head dimensions per O register tile.</summary>
    public int OutputFloats => OutputVectors * Lanes;
}
