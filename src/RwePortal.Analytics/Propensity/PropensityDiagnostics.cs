namespace RwePortal.Analytics.Propensity;

/// <summary>Discrimination and overlap of a propensity model.</summary>
public static class PropensityDiagnostics
{
    /// <summary>The preference-score window of Walker et al. (2013) used for equipoise.</summary>
    public const double PreferenceLow = 0.3;
    public const double PreferenceHigh = 0.7;

    /// <summary>
    /// c-statistic (area under the ROC curve) by Mann–Whitney: the share of treated/control pairs in which
    /// the treated person has the higher score, ties counting one half (mid-ranks, as R's <c>rank</c>).
    /// </summary>
    public static double CStatistic(ReadOnlySpan<double> score, ReadOnlySpan<int> treatment)
    {
        var n = score.Length;
        var order = new int[n];
        for (var i = 0; i < n; i++)
        {
            order[i] = i;
        }

        var keys = score.ToArray();
        Array.Sort(keys, order);
        double rankSumTreated = 0;
        long n1 = 0;
        var start = 0;
        while (start < n)
        {
            var end = start;
            while (end + 1 < n && keys[end + 1] == keys[start])
            {
                end++;
            }

            var midRank = ((start + 1) + (end + 1)) / 2.0;
            for (var r = start; r <= end; r++)
            {
                if (treatment[order[r]] == 1)
                {
                    rankSumTreated += midRank;
                    n1++;
                }
            }

            start = end + 1;
        }

        long n0 = n - n1;
        return (rankSumTreated - (n1 * (n1 + 1) / 2.0)) / ((double)n1 * n0);
    }

    /// <summary>
    /// Preference score (Walker et al.): the propensity score with the treated share removed,
    /// <c>logit(F) = logit(e) − logit(P)</c>, P the share treated.
    /// </summary>
    public static double[] PreferenceScores(ReadOnlySpan<double> ps, double shareTreated)
    {
        var offset = Math.Log(shareTreated / (1.0 - shareTreated));
        var result = new double[ps.Length];
        for (var i = 0; i < ps.Length; i++)
        {
            var logit = Math.Log(ps[i] / (1.0 - ps[i])) - offset;
            result[i] = 1.0 / (1.0 + Math.Exp(-logit));
        }

        return result;
    }

    /// <summary>Share of persons whose preference score lies in [0.3, 0.7].</summary>
    public static double Equipoise(ReadOnlySpan<double> preference)
    {
        var inside = 0;
        foreach (var f in preference)
        {
            if (f >= PreferenceLow && f <= PreferenceHigh)
            {
                inside++;
            }
        }

        return (double)inside / preference.Length;
    }
}
