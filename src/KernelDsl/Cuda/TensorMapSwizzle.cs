namespace KernelDsl.Cuda;

/// <summary>
/// How a TMA copy lays a box's rows out in shared memory: each 16-byte chunk of a row is XORed with the row's place in
/// a span of this many bytes, so 8 rows read down a column hit 8 different bank groups. The wgmma descriptor that reads
/// the tile names the same span. The value is the span in bytes.
/// </summary>
public enum TensorMapSwizzle
{
    /// <summary>Rows stored as they are.</summary>
    None = 0,

    /// <summary>A 32-byte span.</summary>
    Bytes32 = 32,

    /// <summary>A 64-byte span.</summary>
    Bytes64 = 64,

    /// <summary>A 128-byte span (the one for 64 16-bit elements of K per row).</summary>
    Bytes128 = 128,
}
