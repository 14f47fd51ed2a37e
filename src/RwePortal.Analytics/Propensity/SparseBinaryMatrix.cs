namespace RwePortal.Analytics.Propensity;

/// <summary>
/// An n × p matrix of 0/1 indicators stored by column (CSC without values: every stored entry is a 1). This is
/// how OMOP-style covariates (thousands of condition/drug/procedure indicators, ~1% non-zero) are held; a dense
/// n × p matrix is never formed.
/// </summary>
public sealed class SparseBinaryMatrix
{
    private readonly long[] _columnStarts;
    private readonly int[] _rowIndices;

    /// <param name="rows">Number of rows (persons).</param>
    /// <param name="columnStarts">p + 1 offsets into <paramref name="rowIndices"/>.</param>
    /// <param name="rowIndices">Row indices of the ones, column by column, ascending within a column.</param>
    /// <param name="names">Column names.</param>
    public SparseBinaryMatrix(int rows, long[] columnStarts, int[] rowIndices, IReadOnlyList<string> names)
    {
        ArgumentOutOfRangeException.ThrowIfNotEqual(columnStarts.Length, names.Count + 1);
        ArgumentOutOfRangeException.ThrowIfNotEqual(columnStarts[^1], rowIndices.LongLength);
        Rows = rows;
        _columnStarts = columnStarts;
        _rowIndices = rowIndices;
        Names = names;
    }

    public int Rows { get; }

    public int Columns => Names.Count;

    public IReadOnlyList<string> Names { get; }

    public long NonZeros => _rowIndices.LongLength;

    /// <summary>Row indices of the ones in column <paramref name="j"/>.</summary>
    public ReadOnlySpan<int> Column(int j) =>
        _rowIndices.AsSpan((int)_columnStarts[j], (int)(_columnStarts[j + 1] - _columnStarts[j]));

    /// <summary>Builds a matrix from per-column lists of row indices (each ascending).</summary>
    public static SparseBinaryMatrix FromColumns(int rows, IReadOnlyList<int[]> columns, IReadOnlyList<string> names)
    {
        var starts = new long[columns.Count + 1];
        for (var j = 0; j < columns.Count; j++)
        {
            starts[j + 1] = starts[j] + columns[j].Length;
        }

        var indices = new int[starts[^1]];
        for (var j = 0; j < columns.Count; j++)
        {
            columns[j].CopyTo(indices, starts[j]);
        }

        return new SparseBinaryMatrix(rows, starts, indices, names);
    }

    /// <summary>Column <paramref name="j"/> as a dense 0/1 vector (for small problems and tests).</summary>
    public double[] DenseColumn(int j)
    {
        var x = new double[Rows];
        foreach (var i in Column(j))
        {
            x[i] = 1.0;
        }

        return x;
    }
}
