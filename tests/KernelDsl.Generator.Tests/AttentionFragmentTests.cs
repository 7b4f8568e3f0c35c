using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using KernelDsl.Generator.Emitting.Cuda;
using KernelDsl.Generator.Planning;
using KernelDsl.Generator.Tests.Infrastructure;
using Xunit;

namespace KernelDsl.Generator.Tests;

/// <summary>
/// The tensor-core attention path checked without a GPU: one warp's ldmatrix, ldmatrix.trans and mma.sync m16n8k16
/// are simulated from the PTX ISA's fragment layouts (written out here independently of the emitter), fed with the
/// index formulas of <see cref="AttentionFragments"/> — the very strings the emitter prints, evaluated — and the
/// results compared with direct matrix products: S = Q·Kᵀ from shared tiles, the repacking of S's accumulators as
/// P's A fragments, and O = P·V. Small integers keep every product exact.
/// </summary>
public sealed class AttentionFragmentTests
{
    public static TheoryData<int, int, int> Tiles() => new()
    {
        { 16, 16, 16 }, { 32, 16, 32 }, { 64, 32, 64 }, { 80, 16, 32 }, { 128, 16, 64 }, { 256, 16, 32 }, { 64, 16, 16 },
    };

    [Theory]
    [MemberData(nameof(Tiles))]
    public void Warp_computes_s_equal_to_q_times_k_transposed(int headDim, int rowsPerWarp, int tileKv)
    {
        var tile = new Tile(headDim, rowsPerWarp, tileKv);
        var random = new Random(headDim * 1000 + tileKv);
        double[,] q = Matrix(random, rowsPerWarp, headDim), k = Matrix(random, tileKv, headDim);
        var qs = tile.Store(q);
        var ks = tile.Store(k);

        var s = tile.QueryKeyProduct(qs, ks);

        for (int lane = 0; lane < 32; lane++)
        {
            foreach (var (i, j, e, row, key) in tile.Accumulators(lane, tileKv / 8))
            {
                double expected = 0;
                for (int c = 0; c < headDim; c++)
                {
                    expected += q[row, c] * k[key, c];
                }
                Assert.Equal(expected, s[lane][i, j, e]);
            }
        }
    }

    [Theory]
    [MemberData(nameof(Tiles))]
    public void Repacked_p_times_v_equals_the_product_of_the_matrices_s_holds(int headDim, int rowsPerWarp, int tileKv)
    {
        var tile = new Tile(headDim, rowsPerWarp, tileKv);
        var random = new Random(headDim * 1000 + tileKv + 1);
        double[,] v = Matrix(random, tileKv, headDim);
        var vs = tile.Store(v);
        // Any values in S's accumulators define P through the accumulator layout.
        var p = new double[rowsPerWarp, tileKv];
        var s = new double[32][,,];
        for (int lane = 0; lane < 32; lane++)
        {
            s[lane] = new double[tile.MI, tileKv / 8, 4];
            foreach (var (i, j, e, row, key) in tile.Accumulators(lane, tileKv / 8))
            {
                s[lane][i, j, e] = p[row, key] = random.Next(-4, 5);
            }
        }

        var o = tile.ProbabilityValueProduct(s, vs);

        for (int lane = 0; lane < 32; lane++)
        {
            foreach (var (i, n, e, row, dim) in tile.Accumulators(lane, headDim / 8))
            {
                double expected = 0;
                for (int key = 0; key < tileKv; key++)
                {
                    expected += p[row, key] * v[key, dim];
                }
                Assert.Equal(expected, o[lane][i, n, e]);
            }
        }
    }

    /// <summary>ldmatrix reads 8 rows per matrix; with the swizzle, rows of 128 bytes or more hit 8 different 16-byte bank groups.</summary>
    [Theory]
    [InlineData(32)]
    [InlineData(64)]
    [InlineData(128)]
    [InlineData(256)]
    public void Ldmatrix_reads_are_free_of_bank_conflicts(int headDim)
    {
        var tile = new Tile(headDim, 32, 64);
        foreach (var (name, addresses) in tile.AllFragmentAddresses())
        {
            for (int matrix = 0; matrix < 4; matrix++)
            {
                var groups = Enumerable.Range(8 * matrix, 8).Select(lane => addresses[lane] * 2 / 16 % 8).ToArray();
                Assert.True(groups.Distinct().Count() == 8, $"d = {headDim}, {name}: matrix {matrix} reads bank groups {string.Join(", ", groups)}");
            }
        }
    }

    [Theory]
    [InlineData(16, 2)]
    [InlineData(48, 2)]
    [InlineData(64, 4)]
    [InlineData(80, 2)]
    [InlineData(256, 4)]
    public void The_swizzle_permutes_the_chunks_of_every_row(int headDim, int elementBytes)
    {
        var plan = new CudaAttentionPlan(64, 64, 4, headDim, elementBytes == 2, elementBytes);
        for (int row = 0; row < 64; row++)
        {
            var physical = Enumerable.Range(0, plan.Chunks)
                .Select(chunk => IndexFormula.Evaluate(AttentionFragments.TileOffset, Variables(plan, ("row", row), ("chunk", chunk))) / plan.ChunkElements - row * plan.Chunks)
                .OrderBy(x => x);
            Assert.Equal(Enumerable.Range(0, plan.Chunks), physical);
        }
    }

    [Fact]
    public void The_emitter_prints_these_formulas()
    {
        var run = GeneratorRun.Run(("K.cs", "using KernelDsl;\n[RingAttention(HeadDim = 64, Element = Element.BF16)] [Tile(Q = 64, KV = 64), Warps(4)] public static partial class K;\n"));
        string cuda = GeneratorRun.CudaSourceOf(run.GeneratedSources["K.g.cs"]);
        foreach (string formula in new[]
        {
            AttentionFragments.TileOffset, AttentionFragments.QRow, AttentionFragments.QChunk, AttentionFragments.KRow, AttentionFragments.KChunk,
            AttentionFragments.VRow, AttentionFragments.VChunk, AttentionFragments.AccumulatorRow, AttentionFragments.AccumulatorCol,
        })
        {
            Assert.Contains(formula, cuda, StringComparison.Ordinal);
        }
        for (int register = 0; register < 4; register++)
        {
            var (tile, element) = AttentionFragments.PackSource(register);
            Assert.Contains($"a[i][{register}] = pack_bf16x2(s[i][2 * kk + {tile}][{element}], s[i][2 * kk + {tile}][{element + 1}]);", cuda, StringComparison.Ordinal);
        }
        Assert.Contains("ldmatrix_x4(b[j / 2], Ks + k_fragment(ks + 8 * j, kk));", cuda, StringComparison.Ordinal);
        Assert.Contains("ldmatrix_x4_trans(b[g], Vs + v_fragment(ks + 16 * kk, 8 * (n0 + 2 * g)));", cuda, StringComparison.Ordinal);
        Assert.Contains("ldmatrix_x4(a[i], Qs + q_fragment(warp_row0 + 16 * i, kk));", cuda, StringComparison.Ordinal);
    }

    /// <summary>
    /// The backward step's dQ product: dS (queries × keys) as the A operand by ldmatrix.trans from the dSᵀ buffer (rows are
    /// keys, queries contiguous, DS_STRIDE apart) at <see cref="AttentionFragments.DsRow"/>/<see cref="AttentionFragments.DsCol"/>,
    /// K as B by ldmatrix.trans at the V formulas: the MMAs over 16-key steps give dS·K.
    /// </summary>
    [Theory]
    [InlineData(32, 64, 16)]
    [InlineData(64, 64, 128)]
    public void Backward_ds_fragments_times_k_equal_ds_times_k(int queries, int keys, int headDim)
    {
        var tile = new Tile(headDim, 16, keys);
        var random = new Random(queries + keys + headDim);
        double[,] ds = Matrix(random, queries, keys), k = Matrix(random, keys, headDim);
        var ks = tile.Store(k);
        int stride = new CudaAttentionBackwardPlan(queries, 16, keys / 16, headDim, TensorCores: true).DsStride;
        var dst = Enumerable.Repeat(double.NaN, keys * stride).ToArray();
        for (int key = 0; key < keys; key++)
        {
            for (int query = 0; query < queries; query++)
            {
                dst[key * stride + query] = ds[query, key];
            }
        }

        for (int m0 = 0; m0 < queries; m0 += 16)
        {
            for (int d0 = 0; d0 < headDim; d0 += 16)
            {
                var acc = Enumerable.Range(0, 32).Select(_ => new double[1, 2, 4]).ToArray();
                for (int k0 = 0; k0 < keys; k0 += 16)
                {
                    var addresses = new int[32];
                    for (int lane = 0; lane < 32; lane++)
                    {
                        var at = new Dictionary<string, int> { ["q"] = lane / 8, ["r"] = lane % 8, ["m0"] = m0, ["k0"] = k0 };
                        addresses[lane] = IndexFormula.Evaluate(AttentionFragments.DsRow, at) * stride + IndexFormula.Evaluate(AttentionFragments.DsCol, at);
                    }
                    var a = WarpMma.Ldmatrix(dst, addresses, transpose: true);
                    var b = WarpMma.Ldmatrix(ks, tile.FragmentAddresses(AttentionFragments.VRow, AttentionFragments.VChunk, ("key0", k0), ("dim0", d0)), transpose: true);
                    Tile.MmaPairs(acc, 0, 0, a, b);
                }
                for (int lane = 0; lane < 32; lane++)
                {
                    foreach (var (_, n, e, row, col) in tile.Accumulators(lane, 2))
                    {
                        double expected = 0;
                        for (int key = 0; key < keys; key++)
                        {
                            expected += ds[m0 + row, key] * k[key, d0 + col];
                        }
                        Assert.Equal(expected, acc[lane][0, n, e]);
                    }
                }
            }
        }
    }

    private static double[,] Matrix(Random random, int rows, int cols)
    {
        var m = new double[rows, cols];
        for (int r = 0; r < rows; r++)
        {
            for (int c = 0; c < cols; c++)
            {
                m[r, c] = random.Next(-3, 4);
            }
        }
        return m;
    }

    private static Dictionary<string, int> Variables(CudaAttentionPlan plan, params (string Name, int Value)[] values)
    {
        var variables = new Dictionary<string, int>
        {
            ["CHUNKS"] = plan.Chunks, ["ROW_GROUP"] = plan.Swizzle.RowGroup, ["SWIZZLE"] = plan.Swizzle.Span, ["CHUNK_ELEMS"] = plan.ChunkElements,
        };
        foreach (var (name, value) in values)
        {
            variables[name] = value;
        }
        return variables;
    }

    /// <summary>
    /// One warp's view of a 16-bit attention tile: shared tiles of rows × d laid out by <see cref="AttentionFragments.TileOffset"/>,
    /// and the kernel's loops over MMA tiles with ldmatrix and mma simulated per the PTX ISA.
    /// </summary>
    private sealed class Tile(int headDim, int rowsPerWarp, int tileKv)
    {
        private readonly CudaAttentionPlan plan = new(rowsPerWarp, tileKv, 1, headDim, TensorCores: true, ElementBytes: 2);

        public int MI => rowsPerWarp / 16;

        /// <summary>A rows × d matrix in a shared tile (element offsets from the swizzle formula; other slots NaN).</summary>
        public double[] Store(double[,] matrix)
        {
            int rows = matrix.GetLength(0);
            var shared = Enumerable.Repeat(double.NaN, rows * headDim).ToArray();
            for (int row = 0; row < rows; row++)
            {
                for (int chunk = 0; chunk < plan.Chunks; chunk++)
                {
                    int offset = IndexFormula.Evaluate(AttentionFragments.TileOffset, Variables(plan, ("row", row), ("chunk", chunk)));
                    for (int x = 0; x < 8; x++)
                    {
                        shared[offset + x] = matrix[row, chunk * 8 + x];
                    }
                }
            }
            return shared;
        }

        /// <summary>(tile, n-tile, element, row, column) of every accumulator a lane holds, by the emitter's formulas.</summary>
        public IEnumerable<(int I, int J, int E, int Row, int Col)> Accumulators(int lane, int nTiles)
        {
            for (int i = 0; i < MI; i++)
            {
                for (int j = 0; j < nTiles; j++)
                {
                    for (int e = 0; e < 4; e++)
                    {
                        var at = new Dictionary<string, int> { ["lane"] = lane, ["e"] = e };
                        yield return (i, j, e, 16 * i + IndexFormula.Evaluate(AttentionFragments.AccumulatorRow, at), 8 * j + IndexFormula.Evaluate(AttentionFragments.AccumulatorCol, at));
                    }
                }
            }
        }

        /// <summary>The kernel's S loop: per 16-deep step, Q fragments (ldmatrix) and pairs of K n-tiles (ldmatrix), MMAs.</summary>
        public double[][,,] QueryKeyProduct(double[] qs, double[] ks)
        {
            int ns = tileKv / 8;
            var s = NewAccumulators(ns);
            for (int kk = 0; kk < headDim; kk += 16)
            {
                var a = new (double Lo, double Hi)[MI][][];
                for (int i = 0; i < MI; i++)
                {
                    a[i] = WarpMma.Ldmatrix(qs, FragmentAddresses(AttentionFragments.QRow, AttentionFragments.QChunk, ("row0", 16 * i), ("k0", kk)), transpose: false);
                }
                for (int j = 0; j < ns; j += 2)
                {
                    var b = WarpMma.Ldmatrix(ks, FragmentAddresses(AttentionFragments.KRow, AttentionFragments.KChunk, ("key0", 8 * j), ("k0", kk)), transpose: false);
                    for (int i = 0; i < MI; i++)
                    {
                        MmaPairs(s, i, j, a[i], b);
                    }
                }
            }
            return s;
        }

        /// <summary>The kernel's O loop: P's A fragments packed from S's accumulators, V fragments by ldmatrix.trans, MMAs.</summary>
        public double[][,,] ProbabilityValueProduct(double[][,,] s, double[] vs)
        {
            int no = headDim / 8;
            var o = NewAccumulators(no);
            for (int kk = 0; kk < tileKv / 16; kk++)
            {
                var a = new (double Lo, double Hi)[MI][][];
                for (int i = 0; i < MI; i++)
                {
                    a[i] = new (double, double)[32][];
                    for (int lane = 0; lane < 32; lane++)
                    {
                        a[i][lane] = new (double, double)[4];
                        for (int register = 0; register < 4; register++)
                        {
                            var (tile, element) = AttentionFragments.PackSource(register);
                            a[i][lane][register] = (s[lane][i, 2 * kk + tile, element], s[lane][i, 2 * kk + tile, element + 1]);
                        }
                    }
                }
                for (int n = 0; n < no; n += 2)
                {
                    var b = WarpMma.Ldmatrix(vs, FragmentAddresses(AttentionFragments.VRow, AttentionFragments.VChunk, ("key0", 16 * kk), ("dim0", 8 * n)), transpose: true);
                    for (int i = 0; i < MI; i++)
                    {
                        MmaPairs(o, i, n, a[i], b);
                    }
                }
            }
            return o;
        }

        /// <summary>Every ldmatrix address list the kernel uses for a warp tile of 32 rows, 64 keys.</summary>
        public IEnumerable<(string Name, int[] Addresses)> AllFragmentAddresses()
        {
            for (int kk = 0; kk < headDim; kk += 16)
            {
                for (int i = 0; i < MI; i++)
                {
                    yield return ($"Q ({16 * i}, {kk})", FragmentAddresses(AttentionFragments.QRow, AttentionFragments.QChunk, ("row0", 16 * i), ("k0", kk)));
                }
                for (int j = 0; j < tileKv / 8; j += 2)
                {
                    yield return ($"K ({8 * j}, {kk})", FragmentAddresses(AttentionFragments.KRow, AttentionFragments.KChunk, ("key0", 8 * j), ("k0", kk)));
                }
            }
            for (int kk = 0; kk < tileKv / 16; kk++)
            {
                for (int n = 0; n < headDim / 8; n += 2)
                {
                    yield return ($"V ({16 * kk}, {8 * n})", FragmentAddresses(AttentionFragments.VRow, AttentionFragments.VChunk, ("key0", 16 * kk), ("dim0", 8 * n)));
                }
            }
        }

        private double[][,,] NewAccumulators(int nTiles)
            => Enumerable.Range(0, 32).Select(_ => new double[MI, nTiles, 4]).ToArray();

        /// <summary>Each lane's ldmatrix address (an element offset): tile_offset(row formula, chunk formula) with q = lane / 8, r = lane % 8.</summary>
        public int[] FragmentAddresses(string row, string chunk, params (string Name, int Value)[] origin)
        {
            var addresses = new int[32];
            for (int lane = 0; lane < 32; lane++)
            {
                var at = Variables(plan, origin.Append(("lane", lane)).Append(("q", lane / 8)).Append(("r", lane % 8)).ToArray());
                at["row"] = IndexFormula.Evaluate(row, at);
                at["chunk"] = IndexFormula.Evaluate(chunk, at);
                addresses[lane] = IndexFormula.Evaluate(AttentionFragments.TileOffset, at);
            }
            return addresses;
        }

        /// <summary>Two MMAs on n-tiles (n, n + 1) from one ldmatrix.x4 of B, as <see cref="AttentionFragments.PairTarget"/> assigns its registers.</summary>
        public static void MmaPairs(double[][,,] d, int i, int n, (double Lo, double Hi)[][] a, (double Lo, double Hi)[][] b)
        {
            for (int tile = 0; tile < 2; tile++)
            {
                var bTile = new (double, double)[32][];
                for (int lane = 0; lane < 32; lane++)
                {
                    bTile[lane] = new (double, double)[2];
                    for (int register = 0; register < 4; register++)
                    {
                        var (target, slot) = AttentionFragments.PairTarget(register);
                        if (target == tile)
                        {
                            bTile[lane][slot] = b[lane][register];
                        }
                    }
                }
                WarpMma.Mma(d, i, n + tile, a, bTile);
            }
        }

    }
}
