using RwePortal.Application.Common;

namespace RwePortal.Application.Privacy;

/// <summary>
/// Which entries of a table (cells and their totals) are hidden. Small entries first (primary suppression); then every
/// line (a row or a column, its total included) that hides an entry must hide at least two, one of them not small
/// (complementary suppression), unless it hides every entry that is not zero. A line with one hidden entry would give
/// it away as total minus the rest; a line hiding only small entries can pin them too (two hidden 1s under a shown
/// difference of 2). The smallest cell that is not zero is taken as the complement, the line's total last.
/// </summary>
internal sealed class ComplementarySuppression
{
    private ComplementarySuppression(long[,] values, CellProtection?[,] hidden, int rows, int columns)
    {
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

        var plan = new ComplementarySuppression(values, hidden, rows, columns);
        bool changed;
        do
        {
            changed = false;
            for (var r = 0; r <= rows; r++)
            {
                changed |= plan.Protect(Enumerable.Range(0, columns + 1).Select(c => (r, c)).ToList());
            }

            for (var c = 0; c <= columns; c++)
            {
                changed |= plan.Protect(Enumerable.Range(0, rows + 1).Select(r => (r, c)).ToList());
            }
        }
        while (changed);

        return plan;
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
