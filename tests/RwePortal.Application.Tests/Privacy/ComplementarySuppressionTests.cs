using System.Globalization;
using System.Security.Cryptography;
using CsCheck;
using RwePortal.Application.Common;
using RwePortal.Application.Privacy;

namespace RwePortal.Application.Tests.Privacy;

/// <summary>
/// Tables through <see cref="SmallCellPolicy.ProtectTable"/>, audited as an attacker would: knowing every shown entry
/// exactly (as if there were no noise at all), the row and column sums, that "&lt;11" means 1..10 and "—" at least 11.
/// The audit is written here, independently of the suppression it checks: linear algebra for cells the equations fix,
/// and interval reasoning over every row and column for cells the bounds pin.
/// </summary>
public sealed class ComplementarySuppressionTests
{
    private static readonly SmallCellPolicy Policy = new(SmallCellPolicy.DefaultThreshold, RandomNumberGenerator.GetBytes(32));

    private static readonly Gen<long> Cell = Gen.Frequency((2, Gen.Const(0L)), (4, Gen.Long[1, 10]), (5, Gen.Long[11, 300]));

    private static readonly Gen<long[][]> Tables =
        Gen.Select(Gen.Int[1, 5], Gen.Int[1, 5]).SelectMany((rows, columns) => Cell.Array[columns].Array[rows]);

    [Fact]
    public void No_suppressed_cell_of_a_random_table_follows_from_its_totals_and_shown_cells()
    {
        Tables.Sample(cells =>
        {
            var table = Policy.ProtectTable(cells, QuerySeed.Of("table"));
            if (table.Withheld)
            {
                AssertWithheld(table);
                return;
            }

            var audit = new Attacker(cells, table, Policy.Threshold);
            // A complement ("—") is not small: working it out reveals no small cell. Every suppressed one stays open.
            foreach (var (row, column) in audit.Hidden.Where(h => table.Entry(h.Row, h.Column).Protection == CellProtection.Suppressed))
            {
                Assert.False(audit.FixedByEquations(row, column), $"entry ({row},{column}) solvable in {Show(cells)}");
                var (low, high) = audit.Bounds[(row, column)];
                Assert.True(high > low, $"entry ({row},{column}) pinned to {low} in {Show(cells)}");
            }
        }, iter: 10_000);
    }

    [Fact]
    public void No_number_from_1_to_10_is_shown_anywhere_in_a_table_and_small_entries_are_always_suppressed()
    {
        Tables.Sample(cells =>
        {
            var table = Policy.ProtectTable(cells, QuerySeed.Of("table"));
            var audit = new Attacker(cells, table, Policy.Threshold);
            for (var r = 0; r <= table.Rows; r++)
            {
                for (var c = 0; c <= table.Columns; c++)
                {
                    var entry = table.Entry(r, c);
                    Assert.True(entry.Value is null or 0 or >= 11, $"{entry.Display} shown in {Show(cells)}");
                    if (audit.Values[r, c] is > 0 and < 11)
                    {
                        Assert.Equal(("<11", CellProtection.Suppressed), (entry.Display, entry.Protection));
                    }

                    if (audit.Values[r, c] == 0 && !table.Withheld)
                    {
                        Assert.Equal("0", entry.Display);
                    }
                }
            }
        }, iter: 3_000);
    }

    [Fact]
    public void A_row_with_one_small_cell_hides_a_second_cell_and_keeps_its_total()
    {
        long[][] cells = [[3, 40, 25], [50, 60, 70]];

        var table = Policy.ProtectTable(cells, QuerySeed.Of("sex by age band"));

        Assert.Equal("<11", table[0, 0].Display);
        // The smallest other cell of the row, then the smallest of its column so that column does not give it away.
        Assert.Equal(CellProtection.Complementary, table[0, 2].Protection);
        Assert.Equal("—", table[0, 2].Display);
        Assert.Equal(CellProtection.Complementary, table[1, 0].Protection);
        Assert.Equal(CellProtection.Complementary, table[1, 2].Protection);
        Assert.False(table.RowTotal(0).Hidden);
        Assert.InRange(table.RowTotal(0).Value!.Value, 68 - 3, 68 + 3);
        Assert.InRange(table[0, 1].Value!.Value, 37, 43);
        Assert.InRange(table.GrandTotal.Value!.Value, 245, 251);
    }

    [Fact]
    public void A_table_of_small_cells_only_hides_even_its_grand_total_rather_than_let_the_cells_be_worked_out()
    {
        // Shown, the grand total 13 with row and column totals ≥ 11 pins every cell (found by the property test).
        long[][] cells = [[1, 10], [1, 1]];

        var table = Policy.ProtectTable(cells, QuerySeed.Of("small"));

        Assert.True(table.GrandTotal.Hidden);
        Assert.Equal(CellProtection.Complementary, table.GrandTotal.Protection);
    }

    [Fact]
    public void Ten_cells_of_1_under_a_total_below_11_are_withheld_zeros_included()
    {
        // Every "<11" is at least 1 and the total at most 10: hidden or not, each cell must be 1. Only hiding the
        // zero too (so "<11" may mean 0) leaves the attacker guessing.
        long[][] cells = [[1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0]];

        var table = Policy.ProtectTable(cells, QuerySeed.Of("ten ones"));

        Assert.True(table.Withheld);
        AssertWithheld(table);
        Assert.False(Policy.ProtectTable([[1, 1, 30]], QuerySeed.Of("one row")).Withheld);
    }

    [Fact]
    public void Two_small_cells_in_a_row_are_not_left_to_pin_each_other()
    {
        // 1 + 1 under a shown difference of 2 would give both away; a cell that is not small must join them.
        long[][] cells = [[1, 1, 30]];

        var table = Policy.ProtectTable(cells, QuerySeed.Of("one row"));

        Assert.Equal(CellProtection.Complementary, table[0, 2].Protection);
    }

    [Fact]
    public void The_same_table_and_seed_give_the_same_protected_table()
    {
        Tables.Sample(cells =>
        {
            var first = Policy.ProtectTable(cells, QuerySeed.Of("t"));
            var second = Policy.ProtectTable(cells.Select(r => r.ToArray()).ToArray(), QuerySeed.Of("t"));
            for (var r = 0; r <= first.Rows; r++)
            {
                for (var c = 0; c <= first.Columns; c++)
                {
                    Assert.Equal(first.Entry(r, c), second.Entry(r, c));
                }
            }
        }, iter: 500);
    }

    [Fact]
    public void A_Table_1_sized_table_with_many_small_cells_is_protected_and_audited_in_well_under_a_second()
    {
        // 20 age bands × 2 sexes × 4 subgroups as 40 rows × 4 columns, a third of the cells small.
        var random = new Random(42);
        var cells = Enumerable.Range(0, 40)
            .Select(_ => Enumerable.Range(0, 4).Select(_ => random.Next(3) == 0 ? (long)random.Next(1, 11) : random.Next(11, 5_000)).ToArray())
            .ToArray();

        var watch = System.Diagnostics.Stopwatch.StartNew();
        var table = Policy.ProtectTable(cells, QuerySeed.Of("table 1"));
        watch.Stop();

        var audit = new Attacker(cells, table, Policy.Threshold);
        Assert.All(
            audit.Hidden.Where(h => table.Entry(h.Row, h.Column).Protection == CellProtection.Suppressed),
            h => Assert.False(audit.FixedByEquations(h.Row, h.Column) || audit.Bounds[h].High <= audit.Bounds[h].Low));
        Assert.True(watch.ElapsedMilliseconds < 1_000, $"{watch.ElapsedMilliseconds} ms");
    }

    [Fact]
    public void A_long_table_of_150_rows_is_protected_in_under_two_seconds_with_every_small_entry_hidden()
    {
        var random = new Random(7);
        var cells = Enumerable.Range(0, 150)
            .Select(_ => Enumerable.Range(0, 6).Select(_ => random.Next(3) == 0 ? (long)random.Next(0, 11) : random.Next(11, 50_000)).ToArray())
            .ToArray();

        var watch = System.Diagnostics.Stopwatch.StartNew();
        var table = Policy.ProtectTable(cells, QuerySeed.Of("long table"));
        watch.Stop();

        Assert.True(watch.ElapsedMilliseconds < 2_000, $"{watch.ElapsedMilliseconds} ms");
        for (var r = 0; r < 150; r++)
        {
            for (var c = 0; c < 6; c++)
            {
                Assert.Equal(cells[r][c] is > 0 and < 11, table[r, c].Protection == CellProtection.Suppressed);
            }
        }
    }

    private static void AssertWithheld(ProtectedTable table)
    {
        for (var r = 0; r <= table.Rows; r++)
        {
            for (var c = 0; c <= table.Columns; c++)
            {
                Assert.Equal(("<11", CellProtection.Suppressed), (table.Entry(r, c).Display, table.Entry(r, c).Protection));
            }
        }
    }

    private static string Show(long[][] cells) =>
        "[" + string.Join("; ", cells.Select(r => string.Join(", ", r.Select(v => v.ToString(CultureInfo.InvariantCulture))))) + "]";

    /// <summary>What an attacker can work out from a protected table, given the exact values of everything shown.</summary>
    private sealed class Attacker
    {
        private readonly List<(List<(int Var, int Coefficient)> Terms, long Constant)> _equations = [];

        public Attacker(long[][] cells, ProtectedTable table, int threshold)
        {
            var rows = cells.Length;
            var columns = cells[0].Length;
            Values = new long[rows + 1, columns + 1];
            for (var r = 0; r < rows; r++)
            {
                for (var c = 0; c < columns; c++)
                {
                    Values[r, c] = cells[r][c];
                    Values[r, columns] += cells[r][c];
                    Values[rows, c] += cells[r][c];
                    Values[rows, columns] += cells[r][c];
                }
            }

            for (var r = 0; r <= rows; r++)
            {
                for (var c = 0; c <= columns; c++)
                {
                    if (table.Entry(r, c).Hidden)
                    {
                        Hidden.Add((r, c));
                    }
                }
            }

            // Each line: its cells sum to its total. Hidden entries are unknowns, shown ones constants.
            var lines = Enumerable.Range(0, rows + 1).Select(r => Enumerable.Range(0, columns + 1).Select(c => (r, c)).ToList())
                .Concat(Enumerable.Range(0, columns + 1).Select(c => Enumerable.Range(0, rows + 1).Select(r => (r, c)).ToList()));
            foreach (var line in lines)
            {
                var terms = new List<(int, int)>();
                var constant = 0L;
                for (var i = 0; i < line.Count; i++)
                {
                    var coefficient = i == line.Count - 1 ? -1 : 1;
                    var index = Hidden.IndexOf(line[i]);
                    if (index >= 0)
                    {
                        terms.Add((index, coefficient));
                    }
                    else
                    {
                        constant -= coefficient * Values[line[i].Item1, line[i].Item2];
                    }
                }

                if (terms.Count > 0)
                {
                    _equations.Add((terms, constant));
                }
            }

            var low = Hidden.Select(h => table.Entry(h.Row, h.Column).Protection == CellProtection.Suppressed ? 1L : threshold).ToArray();
            // "—" tells the attacker "at least the threshold", nothing more; shown totals bound it through the equations.
            var high = Hidden.Select(h => table.Entry(h.Row, h.Column).Protection == CellProtection.Suppressed ? threshold - 1L : 1L << 50).ToArray();
            for (var changed = true; changed;)
            {
                changed = false;
                foreach (var (terms, constant) in _equations)
                {
                    foreach (var (variable, coefficient) in terms)
                    {
                        // coefficient·x = constant − Σ others
                        long restLow = 0, restHigh = 0;
                        foreach (var (other, otherCoefficient) in terms.Where(t => t.Var != variable))
                        {
                            restLow += otherCoefficient > 0 ? low[other] : -high[other];
                            restHigh += otherCoefficient > 0 ? high[other] : -low[other];
                        }

                        var (newLow, newHigh) = coefficient > 0 ? (constant - restHigh, constant - restLow) : (restLow - constant, restHigh - constant);
                        if (newLow > low[variable])
                        {
                            low[variable] = newLow;
                            changed = true;
                        }

                        if (newHigh < high[variable])
                        {
                            high[variable] = newHigh;
                            changed = true;
                        }
                    }
                }
            }

            for (var i = 0; i < Hidden.Count; i++)
            {
                Bounds[Hidden[i]] = (low[i], high[i]);
            }
        }

        public long[,] Values { get; }

        public List<(int Row, int Column)> Hidden { get; } = [];

        public Dictionary<(int Row, int Column), (long Low, long High)> Bounds { get; } = [];

        /// <summary>Whether the line equations alone determine the entry: its unit vector lies in their row space.</summary>
        public bool FixedByEquations(int row, int column)
        {
            var target = Hidden.IndexOf((row, column));
            var matrix = _equations.Select(e =>
            {
                var vector = new double[Hidden.Count];
                foreach (var (variable, coefficient) in e.Terms)
                {
                    vector[variable] = coefficient;
                }

                return vector;
            }).ToList();
            var unit = new double[Hidden.Count];
            unit[target] = 1;
            return Rank(matrix) == Rank([.. matrix, unit]);
        }

        private static int Rank(List<double[]> rows)
        {
            var m = rows.Select(r => (double[])r.Clone()).ToList();
            var rank = 0;
            var width = m.Count == 0 ? 0 : m[0].Length;
            for (var column = 0; column < width && rank < m.Count; column++)
            {
                var pivot = Enumerable.Range(rank, m.Count - rank).FirstOrDefault(i => Math.Abs(m[i][column]) > 1e-9, -1);
                if (pivot < 0)
                {
                    continue;
                }

                (m[rank], m[pivot]) = (m[pivot], m[rank]);
                for (var i = 0; i < m.Count; i++)
                {
                    if (i != rank && Math.Abs(m[i][column]) > 1e-9)
                    {
                        var factor = m[i][column] / m[rank][column];
                        for (var j = column; j < width; j++)
                        {
                            m[i][j] -= factor * m[rank][j];
                        }
                    }
                }

                rank++;
            }

            return rank;
        }
    }
}
