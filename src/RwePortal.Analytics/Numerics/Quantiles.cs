namespace RwePortal.Analytics.Numerics;

/// <summary>Sample quantiles.</summary>
public static class Quantiles
{
    /// <summary>R's default quantile (type 7): linear interpolation between order statistics at (n−1)p.</summary>
    public static double Type7(ReadOnlySpan<double> sortedValues, double probability)
    {
        if (sortedValues.IsEmpty)
        {
            throw new ArgumentException("No values.", nameof(sortedValues));
        }

        ArgumentOutOfRangeException.ThrowIfLessThan(probability, 0.0);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(probability, 1.0);
        var h = (sortedValues.Length - 1) * probability;
        var lo = (int)Math.Floor(h);
        var hi = Math.Min(lo + 1, sortedValues.Length - 1);
        return sortedValues[lo] + ((h - lo) * (sortedValues[hi] - sortedValues[lo]));
    }

    /// <summary>Type 7 quantile of unsorted values (copies and sorts).</summary>
    public static double Type7Unsorted(ReadOnlySpan<double> values, double probability)
    {
        var copy = values.ToArray();
        Array.Sort(copy);
        return Type7(copy, probability);
    }

    /// <summary>
    /// R's type 1 quantile (the inverse of the empirical distribution function): the ⌈n·p⌉-th order statistic,
    /// the smallest value at p = 0. TrialEmulation truncates weights with it.
    /// </summary>
    public static double Type1(ReadOnlySpan<double> sortedValues, double probability)
    {
        if (sortedValues.IsEmpty)
        {
            throw new ArgumentException("No values.", nameof(sortedValues));
        }

        ArgumentOutOfRangeException.ThrowIfLessThan(probability, 0.0);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(probability, 1.0);
        var n = sortedValues.Length;
        var nppm = n * probability;
        var j = (int)Math.Floor(nppm + (4 * 2.220446049250313e-16));
        var rank = nppm - j > 0 ? j + 1 : j;
        return sortedValues[Math.Clamp(rank, 1, n) - 1];
    }
}
