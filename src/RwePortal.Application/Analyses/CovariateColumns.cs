using RwePortal.Analytics.Numerics;
using RwePortal.Analytics.Propensity;
using RwePortal.Warehouse.Analyses;

namespace RwePortal.Application.Analyses;

/// <summary>One covariate's balance: arm means (proportions for binary ones) before and after adjustment and the SMDs.</summary>
internal sealed record ColumnBalance(double MeanTreatmentBefore, double MeanComparatorBefore, double SmdBefore, double MeanTreatmentAfter, double MeanComparatorAfter, double SmdAfter);

/// <summary>
/// The baseline covariates by column (the sparse triplets regrouped: for each covariate the rows that have it, ascending,
/// and their values), with what the pipeline computes over them in one pass over the non-zeros: balance (the spec's SMD,
/// unweighted arm variances as the denominator before and after) and the correlation with treatment.
/// </summary>
internal sealed class CovariateColumns
{
    private static readonly double[] QuintileCuts = [0.2, 0.4, 0.6, 0.8];

    private CovariateColumns(int persons, IReadOnlyList<CovariateRef> refs, int[][] rows, double[][] values)
    {
        Persons = persons;
        Refs = refs;
        Rows = rows;
        Values = values;
    }

    public int Persons { get; }

    public IReadOnlyList<CovariateRef> Refs { get; }

    public int[][] Rows { get; }

    public double[][] Values { get; }

    public int Count => Refs.Count;

    public static CovariateColumns From(CovariateData data, int persons)
    {
        ArgumentNullException.ThrowIfNull(data);
        var index = new Dictionary<int, int>(data.Refs.Count);
        for (var j = 0; j < data.Refs.Count; j++)
        {
            index.Add(data.Refs[j].Id, j);
        }

        var counts = new int[data.Refs.Count];
        for (var k = 0; k < data.Entries; k++)
        {
            counts[index[data.Covariates[k]]]++;
        }

        var rows = counts.Select(c => new int[c]).ToArray();
        var values = counts.Select(c => new double[c]).ToArray();
        var fill = new int[data.Refs.Count];
        for (var k = 0; k < data.Entries; k++)
        {
            var j = index[data.Covariates[k]];
            var row = data.Rows[k];
            if (row < 0 || row >= persons)
            {
                throw new InvalidOperationException($"covariate entry {k} names row {row} of a population of {persons}");
            }

            rows[j][fill[j]] = row;
            values[j][fill[j]++] = data.Values[k];
        }

        for (var j = 0; j < rows.Length; j++)
        {
            Array.Sort(rows[j], values[j]);
        }

        return new CovariateColumns(persons, data.Refs, rows, values);
    }

    /// <summary>Column <paramref name="j"/> as a dense vector.</summary>
    public double[] Dense(int j)
    {
        var x = new double[Persons];
        for (var k = 0; k < Rows[j].Length; k++)
        {
            x[Rows[j][k]] = Values[j][k];
        }

        return x;
    }

    /// <summary>Column <paramref name="j"/> as stored (its rows and values; every other row is 0), for the sparse maximum-likelihood fit.</summary>
    public SparseColumn Sparse(int j) => new(Rows[j], Values[j]);

    /// <summary>Whether column <paramref name="j"/> takes one value for everyone.</summary>
    public bool IsConstant(int j)
    {
        var rows = Rows[j];
        if (rows.Length == 0)
        {
            return true;
        }

        var first = Values[j][0];
        if (rows.Length < Persons && first != 0)
        {
            return false;
        }

        return Values[j].All(v => v == first) && (rows.Length == Persons || first == 0);
    }

    /// <summary>Pearson correlation of column <paramref name="j"/> with treatment (0 when either is constant).</summary>
    public double CorrelationWithTreatment(int j, int[] treatment)
    {
        double n = Persons, n1 = 0, s = 0, s1 = 0, q = 0;
        foreach (var t in treatment)
        {
            n1 += t;
        }

        for (var k = 0; k < Rows[j].Length; k++)
        {
            var v = Values[j][k];
            s += v;
            q += v * v;
            if (treatment[Rows[j][k]] == 1)
            {
                s1 += v;
            }
        }

        var p = n1 / n;
        var mean = s / n;
        var variance = (q / n) - (mean * mean);
        var covariance = (s1 / n) - (mean * p);
        var denominator = Math.Sqrt(variance * p * (1 - p));
        return denominator > 1e-12 ? covariance / denominator : 0;
    }

    /// <summary>
    /// Balance of column <paramref name="j"/> among the persons of <paramref name="mask"/> (everyone when null): means per
    /// arm unweighted and weighted, SMD = (m₁ − m₀)/√((s₁² + s₀²)/2) with the unweighted variances (p(1−p) for binary).
    /// </summary>
    public ColumnBalance Balance(int j, int[] treatment, double[] weights, bool[]? mask = null)
    {
        double n1 = 0, n0 = 0, w1 = 0, w0 = 0;
        for (var i = 0; i < Persons; i++)
        {
            if (mask is not null && !mask[i])
            {
                continue;
            }

            if (treatment[i] == 1)
            {
                n1++;
                w1 += weights[i];
            }
            else
            {
                n0++;
                w0 += weights[i];
            }
        }

        return Balance(j, treatment, weights, mask, n1, n0, w1, w0);
    }

    /// <summary>The same with the arms' sizes and weight sums given (computed once for all columns).</summary>
    public ColumnBalance Balance(int j, int[] treatment, double[] weights, bool[]? mask, double n1, double n0, double w1, double w0)
    {
        double s1 = 0, s0 = 0, q1 = 0, q0 = 0, ws1 = 0, ws0 = 0;
        var rows = Rows[j];
        var values = Values[j];
        for (var k = 0; k < rows.Length; k++)
        {
            var i = rows[k];
            if (mask is not null && !mask[i])
            {
                continue;
            }

            var v = values[k];
            if (treatment[i] == 1)
            {
                s1 += v;
                q1 += v * v;
                ws1 += weights[i] * v;
            }
            else
            {
                s0 += v;
                q0 += v * v;
                ws0 += weights[i] * v;
            }
        }

        var m1 = n1 > 0 ? s1 / n1 : 0;
        var m0 = n0 > 0 ? s0 / n0 : 0;
        var binary = Refs[j].Binary;
        var v1 = binary ? m1 * (1 - m1) : n1 > 1 ? Math.Max(0, (q1 - (n1 * m1 * m1)) / (n1 - 1)) : 0;
        var v0 = binary ? m0 * (1 - m0) : n0 > 1 ? Math.Max(0, (q0 - (n0 * m0 * m0)) / (n0 - 1)) : 0;
        var sd = Math.Sqrt((v1 + v0) / 2);
        var a1 = w1 > 0 ? ws1 / w1 : 0;
        var a0 = w0 > 0 ? ws0 / w0 : 0;
        return sd > 1e-12
            ? new ColumnBalance(m1, m0, (m1 - m0) / sd, a1, a0, (a1 - a0) / sd)
            : new ColumnBalance(m1, m0, 0, a1, a0, 0);
    }

    /// <summary>
    /// The columns as 0/1 indicators for the penalised PS model: a binary covariate as itself; a continuous one as
    /// indicators of lying above each of its quintiles (decision 1013), so its order is kept without a dense column.
    /// </summary>
    public (SparseBinaryMatrix Matrix, int[] From) Indicators(IReadOnlyList<int> columns)
    {
        var from = new List<int>();
        var names = new List<string>();
        var indicators = new List<int[]>();
        foreach (var j in columns)
        {
            if (Refs[j].Binary)
            {
                names.Add(Refs[j].Name);
                indicators.Add([.. Rows[j].Where((_, k) => Values[j][k] != 0)]);
                from.Add(j);
                continue;
            }

            var dense = Dense(j);
            var sorted = (double[])dense.Clone();
            Array.Sort(sorted);
            var cuts = QuintileCuts.Select(p => Quantiles.Type7(sorted, p)).Distinct().ToList();
            foreach (var cut in cuts)
            {
                var above = Enumerable.Range(0, Persons).Where(i => dense[i] > cut).ToArray();
                if (above.Length > 0 && above.Length < Persons)
                {
                    names.Add($"{Refs[j].Name} > {cut:G6}");
                    indicators.Add(above);
                    from.Add(j);
                }
            }
        }

        return (SparseBinaryMatrix.FromColumns(Persons, indicators, names), [.. from]);
    }
}
