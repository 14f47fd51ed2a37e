using RwePortal.Analytics.Numerics;

namespace RwePortal.Analytics.Weighting;

/// <summary>Weight summaries per arm.</summary>
public sealed record WeightSummary(
    double EssTreated,
    double EssControl,
    double Min,
    double Max,
    double SumTreated,
    double SumControl);

/// <summary>Propensity-score weights (definitions in the ps-analysis spec).</summary>
public static class PsWeights
{
    /// <summary>
    /// ATE (stabilized): <c>T·p/e + (1−T)·(1−p)/(1−e)</c>; ATT: <c>T + (1−T)·e/(1−e)</c>;
    /// ATO: <c>T·(1−e) + (1−T)·e</c>. p is the share treated.
    /// </summary>
    public static double[] Compute(ReadOnlySpan<double> ps, ReadOnlySpan<int> treatment, Estimand estimand)
    {
        var n = ps.Length;
        var treated = 0;
        foreach (var t in treatment)
        {
            treated += t;
        }

        var p = (double)treated / n;
        var w = new double[n];
        for (var i = 0; i < n; i++)
        {
            var e = ps[i];
            var t = treatment[i];
            w[i] = estimand switch
            {
                Estimand.Ate => t == 1 ? p / e : (1.0 - p) / (1.0 - e),
                Estimand.Att => t == 1 ? 1.0 : e / (1.0 - e),
                Estimand.Ato => t == 1 ? 1.0 - e : e,
                _ => throw new ArgumentOutOfRangeException(nameof(estimand)),
            };
        }

        return w;
    }

    /// <summary>Clips every weight to the <paramref name="low"/> and <paramref name="high"/> quantiles (R type 7) of all weights.</summary>
    public static double[] Truncate(ReadOnlySpan<double> weights, double low, double high)
    {
        if (low > high)
        {
            throw new ArgumentException("The lower truncation quantile exceeds the upper.", nameof(low));
        }

        var sorted = weights.ToArray();
        Array.Sort(sorted);
        var lo = Quantiles.Type7(sorted, low);
        var hi = Quantiles.Type7(sorted, high);
        var result = new double[weights.Length];
        for (var i = 0; i < weights.Length; i++)
        {
            result[i] = Math.Min(Math.Max(weights[i], lo), hi);
        }

        return result;
    }

    /// <summary>Kish's effective sample size <c>(Σw)² / Σw²</c>.</summary>
    public static double EffectiveSampleSize(IEnumerable<double> weights)
    {
        double s = 0, s2 = 0;
        foreach (var w in weights)
        {
            s += w;
            s2 += w * w;
        }

        return s2 == 0 ? 0 : s * s / s2;
    }

    public static WeightSummary Summarize(ReadOnlySpan<double> weights, ReadOnlySpan<int> treatment)
    {
        double s1 = 0, s1Sq = 0, s0 = 0, s0Sq = 0;
        var min = double.PositiveInfinity;
        var max = double.NegativeInfinity;
        for (var i = 0; i < weights.Length; i++)
        {
            var w = weights[i];
            min = Math.Min(min, w);
            max = Math.Max(max, w);
            if (treatment[i] == 1)
            {
                s1 += w;
                s1Sq += w * w;
            }
            else
            {
                s0 += w;
                s0Sq += w * w;
            }
        }

        return new WeightSummary(
            s1Sq == 0 ? 0 : s1 * s1 / s1Sq,
            s0Sq == 0 ? 0 : s0 * s0 / s0Sq,
            min,
            max,
            s1,
            s0);
    }
}
