namespace RwePortal.Analytics.Propensity;

/// <summary>A covariate that separates the arms, so the maximum-likelihood propensity model has no finite solution.</summary>
public sealed record Separation(string Covariate, string Reason);

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
            var col = columns[j];
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

            if (min1 > max0 || min0 > max1)
            {
                return new Separation(names[j], $"'{names[j]}' alone separates the arms: its values in one arm all exceed those in the other.");
            }

            if (binary && (ones1 + ones0) > 0 && (n1 + n0 - ones1 - ones0) > 0)
            {
                if ((ones1 > 0 && ones0 == 0) || (ones0 > 0 && ones1 == 0))
                {
                    var arm = ones1 > 0 ? "treated" : "control";
                    return new Separation(names[j], $"'{names[j]}' = 1 occurs only in the {arm} arm ({ones1 + ones0} persons): quasi-complete separation.");
                }

                if ((ones1 == n1 && ones0 < n0) || (ones0 == n0 && ones1 < n1))
                {
                    var arm = ones1 == n1 ? "treated" : "control";
                    return new Separation(names[j], $"'{names[j]}' = 0 occurs only outside the {arm} arm: quasi-complete separation.");
                }
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
        for (var j = 0; j < columns.Count; j++)
        {
            var size = Math.Abs(fit.Coefficients[j + 1]) * StandardDeviation(columns[j]);
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
