namespace KernelDsl.Generator.Tests.Infrastructure;

/// <summary>
/// One warp's ldmatrix and mma.sync m16n8k16, simulated from the PTX ISA's fragment layouts (written out here
/// independently of the emitters), on doubles: small integers keep every product exact. A register holding two
/// 16-bit values is a (Lo, Hi) pair.
/// </summary>
internal static class WarpMma
{
    /// <summary>
    /// ldmatrix.sync.aligned.m8n8.x4(.trans).b16 per the PTX ISA: lanes 8m..8m+7 give the addresses of rows 0..7 of
    /// matrix m (8 consecutive elements each); register m of lane l holds row l / 4, columns 2(l % 4) and 2(l % 4) + 1 of
    /// matrix m — of its transpose with .trans — the lower column in the low half.
    /// </summary>
    public static (double Lo, double Hi)[][] Ldmatrix(double[] shared, int[] addresses, bool transpose)
    {
        var registers = new (double, double)[32][];
        for (int lane = 0; lane < 32; lane++)
        {
            registers[lane] = new (double, double)[4];
            int g = lane / 4, t = lane % 4;
            for (int m = 0; m < 4; m++)
            {
                double At(int row, int col) => shared[addresses[8 * m + row] + col];
                registers[lane][m] = transpose ? (At(2 * t, g), At(2 * t + 1, g)) : (At(g, 2 * t), At(g, 2 * t + 1));
            }
        }
        return registers;
    }

    /// <summary>
    /// mma.sync.aligned.m16n8k16.row.col.f32 per the PTX ISA (g = lane / 4, t = lane % 4): A register r holds rows
    /// g + 8(r % 2), columns 2t + 8(r / 2) and + 1; B register r holds rows (k) 2t + 8r and + 1 of column (n) g;
    /// C element e is row g + 8(e / 2), column 2t + e % 2.
    /// </summary>
    public static void Mma(double[][,,] d, int i, int j, (double Lo, double Hi)[][] a, (double Lo, double Hi)[][] b)
    {
        var matrixA = new double[16, 16];
        var matrixB = new double[16, 8];
        for (int lane = 0; lane < 32; lane++)
        {
            int g = lane / 4, t = lane % 4;
            for (int r = 0; r < 4; r++)
            {
                matrixA[g + 8 * (r % 2), 2 * t + 8 * (r / 2)] = a[lane][r].Lo;
                matrixA[g + 8 * (r % 2), 2 * t + 8 * (r / 2) + 1] = a[lane][r].Hi;
            }
            for (int r = 0; r < 2; r++)
            {
                matrixB[2 * t + 8 * r, g] = b[lane][r].Lo;
                matrixB[2 * t + 8 * r + 1, g] = b[lane][r].Hi;
            }
        }
        for (int lane = 0; lane < 32; lane++)
        {
            int g = lane / 4, t = lane % 4;
            for (int e = 0; e < 4; e++)
            {
                int row = g + 8 * (e / 2), col = 2 * t + e % 2;
                for (int k = 0; k < 16; k++)
                {
                    d[lane][i, j, e] += matrixA[row, k] * matrixB[k, col];
                }
            }
        }
    }
}
