namespace RwePortal.Analytics.Propensity;

/// <summary>A covariate that separates the arms, so the maximum-likelihood propensity model has no finite solution.</summary>
public sealed record Separation(string Covariate, string Reason);

/// <summary>A covariate left out of the propensity model, and why (shown with the run's diagnostics).</summary>
public sealed record RemovedPsCovariate(string Covariate, string Reason);

/// <summary>
/// Detects perfect separation in a propensity model, before fitting (one covariate alone splits the arms)
/// and after fitting (fitted probabilities numerically 0 or 1, or no convergence, as R's glm warns).
/// </summary>
public static class SeparationCheck
{
    /// <summary>R's threshold for "fitted probabilities numerically 0 or 1".</summary>
    private const double FittedEpsilon = 10 * 2.220446049250313e-16;

    /// <summary>
    /// A covariate whose values in one arm all lie strictly above (or, with a 0/1 covariate, one level that
    /// occurs in one arm only) those of the other arm.
    /// </summary>
    public static Separation? BeforeFit(IReadOnlyList<double[]> columns, IReadOnlyList<string> names, ReadOnlySpan<int> treatment)
    {
        for (var j = 0; j < columns.Count; j++)
        {
            if (Column(columns[j], names[j], treatment) is { } found)
            {
                return found;
            }
        }

        return null;
    }

    /// <summary>The same check on sparse columns (every row not stored is 0): the first covariate that alone separates the arms.</summary>
    public static Separation? BeforeFit(IReadOnlyList<SparseColumn> columns, IReadOnlyList<string> names, ReadOnlySpan<int> treatment)
    {
        ArgumentNullException.ThrowIfNull(columns);
        long n1 = 0;
        foreach (var t in treatment)
        {
            n1 += t;
        }

        long n0 = treatment.Length - n1;
        for (var j = 0; j < columns.Count; j++)
        {
            var column = columns[j];
            double min1 = double.PositiveInfinity, max1 = double.NegativeInfinity;
            double min0 = double.PositiveInfinity, max0 = double.NegativeInfinity;
            var binary = true;
            long ones1 = 0, ones0 = 0, stored1 = 0, stored0 = 0;
            for (var k = 0; k < column.Rows.Length; k++)
            {
                var x = column.Values[k];
                binary &= x is 0.0 or 1.0;
                if (treatment[column.Rows[k]] == 1)
                {
                    stored1++;
                    ones1 += x == 1.0 ? 1 : 0;
                    min1 = Math.Min(min1, x);
                    max1 = Math.Max(max1, x);
                }
                else
                {
                    stored0++;
                    ones0 += x == 1.0 ? 1 : 0;
                    min0 = Math.Min(min0, x);
                    max0 = Math.Max(max0, x);
                }
            }

            if (stored1 < n1)
            {
                min1 = Math.Min(min1, 0);
                max1 = Math.Max(max1, 0);
            }

            if (stored0 < n0)
            {
                min0 = Math.Min(min0, 0);
                max0 = Math.Max(max0, 0);
            }

            if (Verdict(names[j], binary, min1, max1, min0, max0, ones1, ones0, n1, n0) is { } found)
            {
                return found;
            }
        }

        return null;
    }

    /// <summary>Every covariate that alone separates the arms (see <see cref="BeforeFit(IReadOnlyList{double[]}, IReadOnlyList{string}, ReadOnlySpan{int})"/>), with its index.</summary>
    public static IReadOnlyList<(int Index, Separation Separation)> AllBeforeFit(IReadOnlyList<double[]> columns, IReadOnlyList<string> names, ReadOnlySpan<int> treatment)
    {
        var found = new List<(int, Separation)>();
        for (var j = 0; j < columns.Count; j++)
        {
            if (Column(columns[j], names[j], treatment) is { } separation)
            {
                found.Add((j, separation));
            }
        }

        return found;
    }

    /// <summary>
    /// Sparse 0/1 columns whose Pearson correlation with treatment exceeds <paramref name="threshold"/> in absolute
    /// value (CohortMethod's high-correlation check, 0.5 there): such a covariate almost perfectly predicts treatment.
    /// Columns present in nobody or in everybody have no correlation and are not flagged.
    /// </summary>
    public static IReadOnlyList<(int Index, Separation Separation)> HighlyCorrelated(SparseBinaryMatrix covariates, ReadOnlySpan<int> treatment, double threshold)
    {
        ArgumentNullException.ThrowIfNull(covariates);
        double n = treatment.Length, treated = 0;
        foreach (var t in treatment)
        {
            treated += t;
        }

        var found = new List<(int, Separation)>();
        for (var j = 0; j < covariates.Columns; j++)
        {
            var column = covariates.Column(j);
            double m = column.Length, both = 0;
            foreach (var i in column)
            {
                both += treatment[i];
            }

            var denominator = Math.Sqrt(m * (n - m) * treated * (n - treated));
            if (denominator == 0)
            {
                continue;
            }

            var r = ((n * both) - (m * treated)) / denominator;
            if (Math.Abs(r) > threshold)
            {
                var name = covariates.Names[j];
                found.Add((j, new Separation(name, $"'{name}' almost perfectly predicts treatment: correlation {r:0.###} (|r| > {threshold:0.###}).")));
            }
        }

        return found;
    }

    private static Separation? Column(double[] col, string name, ReadOnlySpan<int> treatment)
    {
        double min1 = double.PositiveInfinity, max1 = double.NegativeInfinity;
        double min0 = double.PositiveInfinity, max0 = double.NegativeInfinity;
        var binary = true;
        long ones1 = 0, ones0 = 0, n1 = 0, n0 = 0;
        for (var i = 0; i < col.Length; i++)
        {
            var x = col[i];
            binary &= x is 0.0 or 1.0;
            if (treatment[i] == 1)
            {
                n1++;
                ones1 += x == 1.0 ? 1 : 0;
                min1 = Math.Min(min1, x);
                max1 = Math.Max(max1, x);
            }
            else
            {
                n0++;
                ones0 += x == 1.0 ? 1 : 0;
                min0 = Math.Min(min0, x);
                max0 = Math.Max(max0, x);
            }
        }

        return Verdict(name, binary, min1, max1, min0, max0, ones1, ones0, n1, n0);
    }

    private static Separation? Verdict(string name, bool binary, double min1, double max1, double min0, double max0, long ones1, long ones0, long n1, long n0)
    {
        if (min1 > max0 || min0 > max1)
        {
            return new Separation(name, $"'{name}' alone separates the arms: its values in one arm all exceed those in the other.");
        }

        if (binary && (ones1 + ones0) > 0 && (n1 + n0 - ones1 - ones0) > 0)
        {
            if ((ones1 > 0 && ones0 == 0) || (ones0 > 0 && ones1 == 0))
            {
                var arm = ones1 > 0 ? "treated" : "control";
                return new Separation(name, $"'{name}' = 1 occurs only in the {arm} arm ({ones1 + ones0} persons): quasi-complete separation.");
            }

            if ((ones1 == n1 && ones0 < n0) || (ones0 == n0 && ones1 < n1))
            {
                var arm = ones1 == n1 ? "treated" : "control";
                return new Separation(name, $"'{name}' = 0 occurs only outside the {arm} arm: quasi-complete separation.");
            }
        }

        return null;
    }

    /// <summary>
    /// After a fit: fitted probabilities numerically 0 or 1 (or no convergence) mean a combination of covariates
    /// separates the arms; the covariate with the largest standardized coefficient is named as responsible.
    /// </summary>
    public static Separation? AfterFit(LogisticFit fit, IReadOnlyList<double[]> columns)
    {
        ArgumentNullException.ThrowIfNull(fit);
        ArgumentNullException.ThrowIfNull(columns);
        return AfterFit(fit, columns.Count, j => StandardDeviation(columns[j]));
    }

    private static Separation? AfterFit(LogisticFit fit, int count, Func<int, double> standardDeviation)
    {
        var extreme = 0;
        foreach (var mu in fit.Fitted)
        {
            if (mu < FittedEpsilon || mu > 1.0 - FittedEpsilon)
            {
                extreme++;
            }
        }

        if (extreme == 0 && fit.Converged)
        {
            return null;
        }

        var worst = 0;
        var worstSize = -1.0;
        for (var j = 0; j < count; j++)
        {
            var size = Math.Abs(fit.Coefficients[j + 1]) * standardDeviation(j);
            if (size > worstSize || double.IsNaN(size))
            {
                worstSize = size;
                worst = j;
            }
        }

        var name = fit.Names[worst + 1];
        var what = extreme > 0 ? $"{extreme} fitted probabilities are numerically 0 or 1" : "the fit did not converge";
        return new Separation(name, $"Perfect separation: {what}; the largest standardized coefficient is '{name}'.");
    }

    /// <summary>The same check after a fit on sparse columns (see <see cref="LogisticRegression.FitSparse"/>).</summary>
    public static Separation? AfterFit(LogisticFit fit, IReadOnlyList<SparseColumn> columns)
    {
        ArgumentNullException.ThrowIfNull(fit);
        ArgumentNullException.ThrowIfNull(columns);
        var n = fit.Fitted.Length;
        return AfterFit(fit, columns.Count, j => StandardDeviation(columns[j], n));
    }

    private static double StandardDeviation(SparseColumn x, int n)
    {
        var mean = x.Values.Sum() / n;
        var ss = (n - x.Values.Length) * mean * mean;
        foreach (var v in x.Values)
        {
            ss += (v - mean) * (v - mean);
        }

        return Math.Sqrt(ss / Math.Max(1, n - 1));
    }

    private static double StandardDeviation(double[] x)
    {
        var mean = x.Average();
        var ss = 0.0;
        foreach (var v in x)
        {
            ss += (v - mean) * (v - mean);
        }

        return Math.Sqrt(ss / Math.Max(1, x.Length - 1));
    }
}
