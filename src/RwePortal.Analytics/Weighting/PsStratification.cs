using RwePortal.Analytics.Numerics;

namespace RwePortal.Analytics.Weighting;

/// <summary>Stratum of each person (0-based), stratum sizes per arm and the stratification weights.</summary>
public sealed record StratificationResult(int[] Stratum, int[] TreatedPerStratum, int[] ControlPerStratum, double[] Weights);

/// <summary>
/// Stratification on the propensity score into quantile strata (quintiles by default; cut points are type-7
/// quantiles of the PS of everyone, a person with PS equal to a cut point falls in the lower stratum).
/// Marginal mean weights per stratum let the weighted balance and outcome code run unchanged:
/// ATE <c>w = (n_s/n)/(n_ts/n_t)</c>; ATT treated 1, control <c>(n_1s/n_1)/(n_0s/n_0)</c>. ATO has no
/// stratified analogue and is analysed as ATE.
/// </summary>
public static class PsStratification
{
    public static StratificationResult Stratify(ReadOnlySpan<double> ps, ReadOnlySpan<int> treatment, Estimand estimand, int strata = 5)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(strata, 2);
        var n = ps.Length;
        var sorted = ps.ToArray();
        Array.Sort(sorted);
        var cuts = new double[strata - 1];
        for (var k = 1; k < strata; k++)
        {
            cuts[k - 1] = Quantiles.Type7(sorted, (double)k / strata);
        }

        var stratum = new int[n];
        var treated = new int[strata];
        var control = new int[strata];
        for (var i = 0; i < n; i++)
        {
            var s = 0;
            while (s < cuts.Length && ps[i] > cuts[s])
            {
                s++;
            }

            stratum[i] = s;
            if (treatment[i] == 1)
            {
                treated[s]++;
            }
            else
            {
                control[s]++;
            }
        }

        for (var s = 0; s < strata; s++)
        {
            if (treated[s] == 0 || control[s] == 0)
            {
                throw new InvalidOperationException($"PS stratum {s + 1} of {strata} has no {(treated[s] == 0 ? "treated" : "control")} persons.");
            }
        }

        var n1 = treated.Sum();
        var n0 = control.Sum();
        var weights = new double[n];
        for (var i = 0; i < n; i++)
        {
            var s = stratum[i];
            var ns = treated[s] + control[s];
            weights[i] = (estimand, treatment[i]) switch
            {
                (Estimand.Att, 1) => 1.0,
                (Estimand.Att, _) => ((double)treated[s] / n1) / ((double)control[s] / n0),
                (_, 1) => ((double)ns / n) / ((double)treated[s] / n1),
                _ => ((double)ns / n) / ((double)control[s] / n0),
            };
        }

        return new StratificationResult(stratum, treated, control, weights);
    }
}
