using RwePortal.Application.Common;

namespace RwePortal.Application.Privacy;

/// <summary>
/// Which entries of a table (cells and their totals) are hidden. Small entries first (primary suppression); then every
/// line (a row or a column, its total included) that hides an entry must hide at least two, one of them not small
/// (complementary suppression), unless it hides every entry that is not zero. A line with one hidden entry would give
/// it away as total minus the rest; a line hiding only small entries can pin them too (two hidden 1s under a shown
/// difference of 2). The smallest cell that is not zero is taken as the complement, the line's total last. Last, the
/// table is audited as an attacker would (bounds narrowed line by line, knowing "&lt;11" is 1..10 and "—" at least
/// the threshold, and solving the line equations together); while a suppressed entry is pinned, one more entry near
/// it is hidden.
/// </summary>
internal sealed class ComplementarySuppression
{
    private const int MaximumSweeps = 1_000;

    // Far above any count, far below overflow when a line adds a few hundred of them.
    private const long Unbounded = 1L << 50;

    private readonly int _threshold;

    private ComplementarySuppression(long[,] values, CellProtection?[,] hidden, int rows, int columns, int threshold)
    {
        _threshold = threshold;
        Values = values;
        Hidden = hidden;
        Rows = rows;
        Columns = columns;
    }

    public int Rows { get; }

    public int Columns { get; }

    /// <summary>(Rows + 1) × (Columns + 1): cells, row totals in the last column, column totals in the last row.</summary>
    public long[,] Values { get; }

    /// <summary>Null for a shown entry; <see cref="CellProtection.Suppressed"/> or <see cref="CellProtection.Complementary"/> for a hidden one.</summary>
    public CellProtection?[,] Hidden { get; }

    /// <summary>No pattern of hidden entries protects the table: every entry is to be shown as suppressed.</summary>
    public bool Withheld { get; private set; }

    public static ComplementarySuppression Plan(IReadOnlyList<IReadOnlyList<long>> cells, SmallCellPolicy policy)
    {
        var rows = cells.Count;
        var columns = rows == 0 ? 0 : cells[0].Count;
        var values = new long[rows + 1, columns + 1];
        for (var r = 0; r < rows; r++)
        {
            if (cells[r].Count != columns)
            {
                throw new ArgumentException("Every row of a table has the same number of cells.", nameof(cells));
            }

            for (var c = 0; c < columns; c++)
            {
                var value = cells[r][c];
                if (value < 0)
                {
                    throw new ArgumentException("Counts are never negative.", nameof(cells));
                }

                values[r, c] = value;
                values[r, columns] += value;
                values[rows, c] += value;
                values[rows, columns] += value;
            }
        }

        var hidden = new CellProtection?[rows + 1, columns + 1];
        for (var r = 0; r <= rows; r++)
        {
            for (var c = 0; c <= columns; c++)
            {
                if (policy.IsSuppressed(values[r, c]))
                {
                    hidden[r, c] = CellProtection.Suppressed;
                }
            }
        }

        var plan = new ComplementarySuppression(values, hidden, rows, columns, policy.Threshold);
        (int Row, int Column)? pinned;
        do
        {
            plan.ProtectLines();
            pinned = plan.Pinned();
        }
        while (pinned is not null && plan.HideNear(pinned.Value));

        // Everything that is not zero is hidden and the marks alone still pin a cell (ten cells of 1 under a total
        // below 11): the table is withheld, zeros hidden too, so "<11" may be 0 and nothing follows.
        plan.Withheld = pinned is not null;
        return plan;
    }

    private IEnumerable<List<(int Row, int Column)>> Lines() =>
        Enumerable.Range(0, Rows + 1).Select(r => Enumerable.Range(0, Columns + 1).Select(c => (r, c)).ToList())
            .Concat(Enumerable.Range(0, Columns + 1).Select(c => Enumerable.Range(0, Rows + 1).Select(r => (r, c)).ToList()));

    private void ProtectLines()
    {
        bool changed;
        do
        {
            changed = false;
            foreach (var line in Lines())
            {
                changed |= Protect(line);
            }
        }
        while (changed);
    }

    /// <summary>
    /// A suppressed entry whose value an attacker can pin from the shown entries, the line sums and what the marks
    /// say ("&lt;11": 1..10, "—": at least the threshold), by narrowing each hidden entry's bounds line by line.
    /// </summary>
    private (int Row, int Column)? Pinned()
    {
        var hiddenEntries = new List<(int Row, int Column)>();
        for (var r = 0; r <= Rows; r++)
        {
            for (var c = 0; c <= Columns; c++)
            {
                if (Hidden[r, c] is not null)
                {
                    hiddenEntries.Add((r, c));
                }
            }
        }

        var index = hiddenEntries.Select((e, i) => (e, i)).ToDictionary(p => p.e, p => p.i);
        var low = hiddenEntries.Select(e => Hidden[e.Row, e.Column] == CellProtection.Suppressed ? 1L : _threshold).ToArray();
        // "—" says only "at least the threshold"; a shown total bounds it from above through the equations.
        var high = hiddenEntries.Select(e => Hidden[e.Row, e.Column] == CellProtection.Suppressed ? _threshold - 1L : Unbounded).ToArray();
        var equations = new List<(List<(int Variable, int Sign)> Terms, long Constant)>();
        foreach (var line in Lines())
        {
            var terms = new List<(int, int)>();
            var constant = 0L;
            for (var i = 0; i < line.Count; i++)
            {
                var sign = i == line.Count - 1 ? -1 : 1;
                if (index.TryGetValue(line[i], out var variable))
                {
                    terms.Add((variable, sign));
                }
                else
                {
                    constant -= sign * Values[line[i].Row, line[i].Column];
                }
            }

            if (terms.Count > 0)
            {
                equations.Add((terms, constant));
            }
        }

        // Sweeps until nothing narrows; the cap only matters for pathological tables, whose pins the rank test below
        // still catches when the equations fix a value.
        for (var sweep = 0; sweep < MaximumSweeps; sweep++)
        {
            var changed = false;
            foreach (var (terms, constant) in equations)
            {
                foreach (var (variable, sign) in terms)
                {
                    long restLow = 0, restHigh = 0;
                    foreach (var (other, otherSign) in terms)
                    {
                        if (other != variable)
                        {
                            restLow += otherSign > 0 ? low[other] : -high[other];
                            restHigh += otherSign > 0 ? high[other] : -low[other];
                        }
                    }

                    var (newLow, newHigh) = sign > 0 ? (constant - restHigh, constant - restLow) : (restLow - constant, restHigh - constant);
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

            if (!changed)
            {
                break;
            }
        }

        // Bounds miss what a combination of lines fixes (one column minus another): an entry whose unit vector lies in
        // the span of the line equations has one value whatever the others are.
        var matrix = equations.Select(e =>
        {
            var row = new double[hiddenEntries.Count];
            foreach (var (variable, sign) in e.Terms)
            {
                row[variable] = sign;
            }

            return row;
        }).ToList();
        var basis = ReducedRowEchelon(matrix);
        for (var i = 0; i < hiddenEntries.Count; i++)
        {
            if (Hidden[hiddenEntries[i].Row, hiddenEntries[i].Column] == CellProtection.Suppressed
                && (high[i] <= low[i] || InRowSpace(basis, i, hiddenEntries.Count)))
            {
                return hiddenEntries[i];
            }
        }

        return null;
    }

    private const double Zero = 1e-9;

    /// <summary>The nonzero rows of the reduced row echelon form, each with its pivot column (pivot 1, zeros above and below).</summary>
    private static List<(int Pivot, double[] Row)> ReducedRowEchelon(List<double[]> rows)
    {
        var m = rows.Select(r => (double[])r.Clone()).ToList();
        var width = m.Count == 0 ? 0 : m[0].Length;
        var basis = new List<(int, double[])>();
        var rank = 0;
        for (var column = 0; column < width && rank < m.Count; column++)
        {
            var pivot = -1;
            var largest = Zero;
            for (var i = rank; i < m.Count; i++)
            {
                if (Math.Abs(m[i][column]) > largest)
                {
                    largest = Math.Abs(m[i][column]);
                    pivot = i;
                }
            }

            if (pivot < 0)
            {
                continue;
            }

            (m[rank], m[pivot]) = (m[pivot], m[rank]);
            var scale = m[rank][column];
            for (var j = 0; j < width; j++)
            {
                m[rank][j] /= scale;
            }

            for (var i = 0; i < m.Count; i++)
            {
                if (i != rank && Math.Abs(m[i][column]) > Zero)
                {
                    var factor = m[i][column];
                    for (var j = 0; j < width; j++)
                    {
                        m[i][j] -= factor * m[rank][j];
                    }
                }
            }

            basis.Add((column, m[rank]));
            rank++;
        }

        return basis;
    }

    /// <summary>
    /// Whether the unit vector of <paramref name="variable"/> is a combination of the equations: then the equations
    /// alone give that entry's value. Reducing it by the echelon basis leaves nothing exactly then.
    /// </summary>
    private static bool InRowSpace(List<(int Pivot, double[] Row)> basis, int variable, int width)
    {
        var vector = new double[width];
        vector[variable] = 1;
        foreach (var (pivot, row) in basis)
        {
            var factor = vector[pivot];
            if (Math.Abs(factor) > Zero)
            {
                for (var j = 0; j < width; j++)
                {
                    vector[j] -= factor * row[j];
                }
            }
        }

        return vector.All(v => Math.Abs(v) <= 1e-6);
    }

    /// <summary>Hides the smallest shown entry that is not zero in the pinned entry's row or column, else anywhere.</summary>
    private bool HideNear((int Row, int Column) pinned)
    {
        var shown = new List<(int Row, int Column)>();
        for (var r = 0; r <= Rows; r++)
        {
            for (var c = 0; c <= Columns; c++)
            {
                if (Hidden[r, c] is null && Values[r, c] > 0)
                {
                    shown.Add((r, c));
                }
            }
        }

        var near = shown.Where(e => e.Row == pinned.Row || e.Column == pinned.Column).ToList();
        var pool = near.Count > 0 ? near : shown;
        if (pool.Count == 0)
        {
            return false;
        }

        var complement = pool.MinBy(e => Values[e.Row, e.Column]);
        Hidden[complement.Row, complement.Column] = CellProtection.Complementary;
        return true;
    }

    /// <summary>Hides one more entry of the line when it needs one; the last entry of a line is its total.</summary>
    private bool Protect(List<(int Row, int Column)> line)
    {
        var hiddenEntries = line.Where(e => Hidden[e.Row, e.Column] is not null).ToList();
        if (hiddenEntries.Count == 0
            || (hiddenEntries.Count >= 2 && hiddenEntries.Any(e => Hidden[e.Row, e.Column] == CellProtection.Complementary))
            || line.All(e => Hidden[e.Row, e.Column] is not null || Values[e.Row, e.Column] == 0))
        {
            return false;
        }

        var candidates = line.Where(e => Hidden[e.Row, e.Column] is null && Values[e.Row, e.Column] > 0).ToList();
        var cells = candidates.Take(candidates.Count - (candidates.Count > 0 && candidates[^1] == line[^1] ? 1 : 0)).ToList();
        var complement = cells.Count > 0 ? cells.MinBy(e => Values[e.Row, e.Column]) : candidates[^1];
        Hidden[complement.Row, complement.Column] = CellProtection.Complementary;
        return true;
    }
}
