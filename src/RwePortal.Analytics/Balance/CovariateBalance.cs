namespace RwePortal.Analytics.Balance;

/// <summary>Standardized mean differences of one covariate before and after adjustment.</summary>
public sealed record BalanceRow(string Covariate, double SmdBefore, double SmdAfter);

/// <summary>
/// Standardized mean differences, <c>(m₁ − m₀) / sqrt((s₁² + s₀²)/2)</c>, with the unweighted arm variances in
/// the denominator before and after weighting (<c>p(1−p)</c> for a 0/1 covariate, the n−1 sample variance
/// otherwise), so that "after" differs from "before" only through the weighted means.
/// </summary>
public static class CovariateBalance
{
    /// <summary>Threshold under which a covariate counts as balanced.</summary>
    public const double SmdThreshold = 0.1;

    public static BalanceRow Compute(string name, ReadOnlySpan<double> x, ReadOnlySpan<int> treatment, ReadOnlySpan<double> weights)
    {
        double sum1 = 0, sum0 = 0, wsum1 = 0, wsum0 = 0, w1 = 0, w0 = 0;
        long n1 = 0, n0 = 0;
        bool binary1 = true, binary0 = true;
        for (var i = 0; i < x.Length; i++)
        {
            var v = x[i];
            var w = weights[i];
            if (treatment[i] == 1)
            {
                n1++;
                sum1 += v;
                wsum1 += w * v;
                w1 += w;
                binary1 &= v is 0.0 or 1.0;
            }
            else
            {
                n0++;
                sum0 += v;
                wsum0 += w * v;
                w0 += w;
                binary0 &= v is 0.0 or 1.0;
            }
        }

        var m1 = sum1 / n1;
        var m0 = sum0 / n0;
        double ss1 = 0, ss0 = 0;
        for (var i = 0; i < x.Length; i++)
        {
            if (treatment[i] == 1)
            {
                ss1 += (x[i] - m1) * (x[i] - m1);
            }
            else
            {
                ss0 += (x[i] - m0) * (x[i] - m0);
            }
        }

        var var1 = binary1 ? m1 * (1 - m1) : ss1 / (n1 - 1);
        var var0 = binary0 ? m0 * (1 - m0) : ss0 / (n0 - 1);
        var sd = Math.Sqrt((var1 + var0) / 2.0);
        var before = (m1 - m0) / sd;
        var after = ((wsum1 / w1) - (wsum0 / w0)) / sd;
        return new BalanceRow(name, before, after);
    }

    public static IReadOnlyList<BalanceRow> Compute(
        IReadOnlyList<string> names,
        IReadOnlyList<double[]> columns,
        ReadOnlySpan<int> treatment,
        ReadOnlySpan<double> weights)
    {
        var rows = new BalanceRow[names.Count];
        for (var j = 0; j < names.Count; j++)
        {
            rows[j] = Compute(names[j], columns[j], treatment, weights);
        }

        return rows;
    }
}

/// <summary>Balance of sparse 0/1 covariates without densifying them.</summary>
public static class SparseCovariateBalance
{
    /// <summary>SMD per column with the <c>p(1−p)</c> denominators of <see cref="CovariateBalance"/>.</summary>
    public static IReadOnlyList<BalanceRow> Compute(Propensity.SparseBinaryMatrix x, ReadOnlySpan<int> treatment, ReadOnlySpan<double> weights)
    {
        long n1 = 0, n0 = 0;
        double w1 = 0, w0 = 0;
        for (var i = 0; i < treatment.Length; i++)
        {
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

        var rows = new BalanceRow[x.Columns];
        for (var j = 0; j < x.Columns; j++)
        {
            long c1 = 0, c0 = 0;
            double s1 = 0, s0 = 0;
            foreach (var i in x.Column(j))
            {
                if (treatment[i] == 1)
                {
                    c1++;
                    s1 += weights[i];
                }
                else
                {
                    c0++;
                    s0 += weights[i];
                }
            }

            var m1 = (double)c1 / n1;
            var m0 = (double)c0 / n0;
            var sd = Math.Sqrt(((m1 * (1 - m1)) + (m0 * (1 - m0))) / 2.0);
            rows[j] = sd == 0
                ? new BalanceRow(x.Names[j], 0, 0)
                : new BalanceRow(x.Names[j], (m1 - m0) / sd, ((s1 / w1) - (s0 / w0)) / sd);
        }

        return rows;
    }
}
