using System;
using System.Collections.Generic;
using System.Linq;
using KernelDsl.Generator.Emitting.Cuda;
using KernelDsl.Generator.Planning;
using KernelDsl.Generator.Tests.Infrastructure;
using Xunit;

namespace KernelDsl.Generator.Tests;

/// <summary>
/// The tensor-core GEMM's index formulas checked without a GPU: a block's A and B tiles are stored in shared memory
/// by <see cref="GemmFragments.Offset"/> as the kernel's cp.async copies place them, then each warp's stage loop runs
/// with ldmatrix(.trans) at the addresses <see cref="GemmFragments.Row"/> and <see cref="GemmFragments.Chunk"/> give
/// (the strings the emitter prints, evaluated) and mma.sync simulated per the PTX ISA (<see cref="WarpMma"/>); every
/// accumulator must equal the direct product. Small integers keep every product exact. The layouts come from the
/// planner (<see cref="GemmPlanner.MmaOperand"/>), so the swizzle spans of 4, 6, 8, 12 and 16 chunks per row are covered.
/// </summary>
public sealed class GemmFragmentTests
{
    /// <summary>(transposeA, transposeB, tile M, N, K, warp tile M, N).</summary>
    public static TheoryData<bool, bool, int, int, int, int, int> Tiles()
    {
        var data = new TheoryData<bool, bool, int, int, int, int, int>();
        foreach (var (ta, tb) in new[] { (false, false), (false, true), (true, false), (true, true) })
        {
            data.Add(ta, tb, 64, 64, 32, 32, 32);
            data.Add(ta, tb, 128, 128, 32, 64, 64);
            data.Add(ta, tb, 64, 32, 48, 32, 32);
            data.Add(ta, tb, 96, 64, 16, 96, 32);
            data.Add(ta, tb, 128, 256, 64, 64, 64);
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(Tiles))]
    public void Every_warp_computes_its_tile_of_a_times_b(bool transposeA, bool transposeB, int tileM, int tileN, int tileK, int warpM, int warpN)
    {
        var block = new Block(transposeA, transposeB, tileM, tileN, tileK, warpM, warpN);
        var mismatches = block.Mismatches(Formulas.Emitted(block.A), Formulas.Emitted(block.B), block.A.ContiguousAlongK, block.B.ContiguousAlongK);
        Assert.True(mismatches.Count == 0, string.Join("\n", mismatches.Take(5)));
    }

    /// <summary>The check fails for each fault it exists to catch: a swapped matrix order, a lost swizzle, a wrong transpose.</summary>
    [Theory]
    [InlineData(false, false)]
    [InlineData(true, true)]
    public void Faulty_addresses_are_caught(bool transposeA, bool transposeB)
    {
        var block = new Block(transposeA, transposeB, 64, 64, 32, 32, 32);
        Formulas a = Formulas.Emitted(block.A), b = Formulas.Emitted(block.B);
        Assert.NotEmpty(block.Mismatches(a with { Row = Swap(a.Row), Chunk = Swap(a.Chunk) }, b, block.A.ContiguousAlongK, block.B.ContiguousAlongK));
        Assert.NotEmpty(block.Mismatches(a, b with { Row = Swap(b.Row), Chunk = Swap(b.Chunk) }, block.A.ContiguousAlongK, block.B.ContiguousAlongK));
        Assert.NotEmpty(block.Mismatches(a with { LoadOffset = "(row * A_CHUNKS + chunk) * 8" }, b, block.A.ContiguousAlongK, block.B.ContiguousAlongK));
        Assert.NotEmpty(block.Mismatches(a, b, !block.A.ContiguousAlongK, block.B.ContiguousAlongK));
    }

    /// <summary>q % 2 ↔ q / 2: the four 8×8 matrices named in the other order.</summary>
    private static string Swap(string formula) => formula.Replace("q % 2", "Q_MOD").Replace("q / 2", "q % 2").Replace("Q_MOD", "q / 2");

    /// <summary>One operand's printed formulas: where the copy stores a chunk, where ldmatrix reads one.</summary>
    private sealed record Formulas(string StoreOffset, string LoadOffset, string Row, string Chunk)
    {
        public static Formulas Emitted(MmaOperand operand)
            => new(GemmFragments.Offset(operand.Name), GemmFragments.Offset(operand.Name), GemmFragments.Row(operand), GemmFragments.Chunk(operand));
    }

    private sealed class Block
    {
        private readonly int tileM, tileN, tileK, warpM, warpN;
        private readonly double[,] a, b;  // op(A) is M×K, op(B) is K×N, whatever their storage

        public Block(bool transposeA, bool transposeB, int tileM, int tileN, int tileK, int warpM, int warpN)
        {
            (this.tileM, this.tileN, this.tileK, this.warpM, this.warpN) = (tileM, tileN, tileK, warpM, warpN);
            A = GemmPlanner.MmaOperand("A", contiguousAlongK: !transposeA, extent: tileM, tileK, threads: 128);
            B = GemmPlanner.MmaOperand("B", contiguousAlongK: transposeB, extent: tileN, tileK, threads: 128);
            var random = new Random(tileM * 7919 + tileN * 31 + tileK + (transposeA ? 1 : 0) + (transposeB ? 2 : 0));
            a = Matrix(random, tileM, tileK);
            b = Matrix(random, tileK, tileN);
        }

        public MmaOperand A { get; }

        public MmaOperand B { get; }

        /// <summary>Accumulators that differ from the direct product, described; empty when the formulas are right.</summary>
        public List<string> Mismatches(Formulas fa, Formulas fb, bool aWithoutTranspose, bool bWithoutTranspose)
        {
            double[] sharedA = Store(A, fa.StoreOffset, (m, k) => a[m, k], tileM);
            double[] sharedB = Store(B, fb.StoreOffset, (n, k) => b[k, n], tileN);
            int mi = warpM / 16, ni = warpN / 8;
            var found = new List<string>();
            for (int wm = 0; wm < tileM / warpM; wm++)
            {
                for (int wn = 0; wn < tileN / warpN; wn++)
                {
                    var acc = Enumerable.Range(0, 32).Select(_ => new double[mi, ni, 4]).ToArray();
                    for (int kk = 0; kk < tileK; kk += 16)
                    {
                        var fragmentsA = Enumerable.Range(0, mi)
                            .Select(i => WarpMma.Ldmatrix(sharedA, Addresses(A, fa, wm * warpM + i * 16, kk), transpose: !aWithoutTranspose))
                            .ToArray();
                        for (int j = 0; j < ni; j += 2)
                        {
                            // b[j] = pair[0], pair[1]; b[j + 1] = pair[2], pair[3] (the kernel's unpacking of one ldmatrix.x4).
                            var pair = WarpMma.Ldmatrix(sharedB, Addresses(B, fb, wn * warpN + j * 8, kk), transpose: !bWithoutTranspose);
                            for (int i = 0; i < mi; i++)
                            {
                                WarpMma.Mma(acc, i, j, fragmentsA[i], pair.Select(registers => registers[..2]).ToArray());
                                WarpMma.Mma(acc, i, j + 1, fragmentsA[i], pair.Select(registers => registers[2..]).ToArray());
                            }
                        }
                    }
                    Compare(acc, wm, wn, mi, ni, found);
                }
            }
            return found;
        }

        private void Compare(double[][,,] acc, int wm, int wn, int mi, int ni, List<string> found)
        {
            for (int lane = 0; lane < 32; lane++)
            {
                for (int i = 0; i < mi; i++)
                {
                    for (int j = 0; j < ni; j++)
                    {
                        for (int e = 0; e < 4; e++)
                        {
                            // C fragment (PTX m16n8k16): element e of lane l is row l / 4 + 8(e / 2), column 2(l % 4) + e % 2.
                            int row = wm * warpM + 16 * i + lane / 4 + 8 * (e / 2), col = wn * warpN + 8 * j + 2 * (lane % 4) + e % 2;
                            double expected = 0;
                            for (int k = 0; k < tileK; k++)
                            {
                                expected += a[row, k] * b[k, col];
                            }
                            if (acc[lane][i, j, e] != expected)
                            {
                                found.Add($"warp ({wm}, {wn}) lane {lane} C[{row}, {col}] = {acc[lane][i, j, e]}, expected {expected}");
                            }
                        }
                    }
                }
            }
        }

        /// <summary>
        /// The copy's placement: a K-contiguous operand's stored rows are its M (N) indices with chunks along K, else
        /// its K indices with chunks along M (N); every element lands at offset(row, chunk) + its place in the chunk.
        /// Slots no element reaches stay NaN, so a read outside the tile shows.
        /// </summary>
        private double[] Store(MmaOperand operand, string offset, Func<int, int, double> element, int extent)
        {
            var shared = Enumerable.Repeat(double.NaN, operand.Rows * operand.Chunks * 8).ToArray();
            for (int mn = 0; mn < extent; mn++)
            {
                for (int k = 0; k < tileK; k++)
                {
                    var (row, chunk, within) = operand.ContiguousAlongK ? (mn, k / 8, k % 8) : (k, mn / 8, mn % 8);
                    int at = IndexFormula.Evaluate(offset, Constants(operand, ("row", row), ("chunk", chunk)));
                    Assert.True(double.IsNaN(shared[at + within]), $"{operand.Name}: two elements stored at {at + within}");
                    shared[at + within] = element(mn, k);
                }
            }
            return shared;
        }

        /// <summary>Each lane's ldmatrix address: offset(row formula, chunk formula) with q = lane / 8, r = lane % 8.</summary>
        private static int[] Addresses(MmaOperand operand, Formulas formulas, int mn, int k)
        {
            var addresses = new int[32];
            for (int lane = 0; lane < 32; lane++)
            {
                var at = Constants(operand, ("mn", mn), ("k", k), ("q", lane / 8), ("r", lane % 8));
                at["row"] = IndexFormula.Evaluate(formulas.Row, at);
                at["chunk"] = IndexFormula.Evaluate(formulas.Chunk, at);
                addresses[lane] = IndexFormula.Evaluate(formulas.LoadOffset, at);
            }
            return addresses;
        }

        /// <summary>The constants the kernel prints for <paramref name="operand"/> (A_CHUNKS, A_ROW_GROUP, A_SWIZZLE), and <paramref name="values"/>.</summary>
        private static Dictionary<string, int> Constants(MmaOperand operand, params (string Name, int Value)[] values)
        {
            var variables = new Dictionary<string, int>
            {
                [operand.Name + "_CHUNKS"] = operand.Chunks,
                [operand.Name + "_ROW_GROUP"] = operand.SwizzleRowGroup,
                [operand.Name + "_SWIZZLE"] = operand.SwizzleSpan,
            };
            foreach (var (name, value) in values)
            {
                variables[name] = value;
            }
            return variables;
        }

        private static double[,] Matrix(Random random, int rows, int cols)
        {
            var matrix = new double[rows, cols];
            for (int i = 0; i < rows; i++)
            {
                for (int j = 0; j < cols; j++)
                {
                    matrix[i, j] = random.Next(-4, 5);
                }
            }
            return matrix;
        }
    }
}
