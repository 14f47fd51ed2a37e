namespace RwePortal.Application.Privacy;

/// <summary>How a shown count was protected.</summary>
public enum CellProtection
{
    /// <summary>Shown as it is: zero, or a count from the threshold up where no noise applies.</summary>
    Exact,

    /// <summary>Shown with deterministic noise (and never below the threshold).</summary>
    Perturbed,

    /// <summary>A count from 1 to threshold − 1, hidden ("&lt;11").</summary>
    Suppressed,

    /// <summary>Not small itself, hidden because it would reveal a suppressed count by difference ("—").</summary>
    Complementary,
}

/// <summary>
/// A count as people may see it. <see cref="Display"/> is always set ("0", "&lt;11", "—", "~1,230", "1,230");
/// <see cref="Value"/> is the number shown, null when the count is hidden.
/// </summary>
public sealed record ProtectedCount(long? Value, CellProtection Protection, string Display)
{
    public bool Hidden => Value is null;
}

/// <summary>
/// A protected table: <see cref="Rows"/> × <see cref="Columns"/> cells, each row's total, each column's total and the
/// grand total. Totals are protected counts of their own (perturbed apart from the cells), not sums of what is shown.
/// </summary>
public sealed class ProtectedTable
{
    private readonly ProtectedCount[][] _cells;

    internal ProtectedTable(ProtectedCount[][] cells, int rows, int columns, bool withheld)
    {
        _cells = cells;
        Withheld = withheld;
        Rows = rows;
        Columns = columns;
    }

    public int Rows { get; }

    /// <summary>
    /// No entry is shown, zeros included: the table's small cells would give each other away whatever was hidden
    /// (say ten cells of 1 under a total below 11). Pages say "too few people to break down" instead of the table.
    /// </summary>
    public bool Withheld { get; }

    public int Columns { get; }

    public ProtectedCount this[int row, int column] => _cells[Check(row, Rows)][Check(column, Columns)];

    public ProtectedCount RowTotal(int row) => _cells[Check(row, Rows)][Columns];

    public ProtectedCount ColumnTotal(int column) => _cells[Rows][Check(column, Columns)];

    public ProtectedCount GrandTotal => _cells[Rows][Columns];

    /// <summary>Every entry, totals included: row <see cref="Rows"/> holds the column totals, column <see cref="Columns"/> the row totals.</summary>
    public ProtectedCount Entry(int row, int column) => _cells[Check(row, Rows + 1)][Check(column, Columns + 1)];

    private static int Check(int index, int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, count);
        return index;
    }
}
