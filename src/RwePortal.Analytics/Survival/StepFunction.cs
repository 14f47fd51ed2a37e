namespace RwePortal.Analytics.Survival;

/// <summary>Step curves (Kaplan–Meier, cumulative incidence): which step is in force at a time.</summary>
internal static class StepFunction
{
    /// <summary>The last point whose time is at or before <paramref name="time"/> (points ascending), or null before the first.</summary>
    public static T? At<T>(IReadOnlyList<T> points, Func<T, double> timeOf, double time)
        where T : class
    {
        int lo = 0, hi = points.Count - 1, found = -1;
        while (lo <= hi)
        {
            var mid = (lo + hi) >>> 1;
            if (timeOf(points[mid]) <= time)
            {
                found = mid;
                lo = mid + 1;
            }
            else
            {
                hi = mid - 1;
            }
        }

        return found < 0 ? null : points[found];
    }
}
