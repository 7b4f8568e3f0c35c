namespace KernelDsl.Generator.Planning;

/// <summary>
/// The XOR swizzle of a shared-memory tile stored as rows of 16-byte chunks: chunk c of row r is stored at
/// c ^ ((r / RowGroup) % Span). Shared memory has 32 four-byte banks, eight 16-byte bank groups; an ldmatrix
/// (or any 16-byte-per-lane read of one chunk column) reads chunk c of 8 consecutive rows, aligned to 8.
/// </summary>
/// <remarks>
/// With C chunks per row, row r starts in bank group (r·C) mod 8. Let g = gcd(C, 8), the largest power of two
/// dividing C (at most 8). The starts are multiples of g and repeat every 8 / g rows, so 8 consecutive rows fall
/// into g runs of 8 / g rows each that would collide with each other. XOR-ing the chunk's low bits with the run's
/// index (r / (8 / g)) % g separates them: the start supplies the high bits, the XOR the low ones, without carries,
/// so the 8 chunks land in 8 different bank groups. Span = g keeps the swizzled chunk inside its row. For C a
/// power of two this is the familiar 128-byte-line swizzle (C ≥ 8: c ^ (r % 8)); it also covers C = 6, 10, 12, …
/// (e.g. Tile.K = 48, HeadDim = 80), where counting rows per 128-byte line as 8 / C is not a whole number.
/// </remarks>
/// <param name="Span">g: the XOR span, the largest power of two dividing the chunk count, at most 8.</param>
/// <param name="RowGroup">8 / g: rows after which the rows' starting bank group repeats.</param>
internal sealed record ChunkSwizzle(int Span, int RowGroup)
{
    public static ChunkSwizzle For(int chunks)
    {
        int span = 1;
        while (span < 8 && chunks % (span * 2) == 0)
        {
            span *= 2;
        }

        return new ChunkSwizzle(span, 8 / span);
    }
}
