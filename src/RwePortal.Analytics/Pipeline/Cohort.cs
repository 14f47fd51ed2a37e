namespace RwePortal.Analytics.Pipeline;

/// <summary>
/// An analysis cohort in memory, one entry per person in every array; covariates are stored by column
/// (<c>Covariates[j][i]</c> is covariate j of person i).
/// </summary>
public sealed record Cohort(
    long[] PersonIds,
    int[] Treatment,
    double[] Time,
    int[] Event,
    IReadOnlyList<string> CovariateNames,
    IReadOnlyList<double[]> Covariates)
{
    public int Count => PersonIds.Length;

    /// <summary>The same persons with only the named covariates, in the order given.</summary>
    public Cohort Select(IReadOnlyList<string> names)
    {
        var columns = new List<double[]>(names.Count);
        foreach (var name in names)
        {
            var j = IndexOf(name);
            if (j < 0)
            {
                throw new ArgumentException($"No covariate '{name}'.", nameof(names));
            }

            columns.Add(Covariates[j]);
        }

        return this with { CovariateNames = [.. names], Covariates = columns };
    }

    public int IndexOf(string name)
    {
        for (var j = 0; j < CovariateNames.Count; j++)
        {
            if (string.Equals(CovariateNames[j], name, StringComparison.Ordinal))
            {
                return j;
            }
        }

        return -1;
    }
}
