namespace RwePortal.Analytics.Survival;

/// <summary>
/// One step of a cumulative incidence curve 1 − S(t) (no competing risks), with the Kaplan–Meier band flipped:
/// <c>Lower = 1 − upper_S</c>, <c>Upper = 1 − lower_S</c>. <see cref="StdErrLogSurvival"/> is the standard error of log S.
/// </summary>
public sealed record CumulativeIncidencePoint(
    double Time,
    double AtRisk,
    double Events,
    double Risk,
    double StdErrLogSurvival,
    double Lower,
    double Upper);

/// <summary>A cumulative incidence curve (risk of the event by time t) with its pointwise band.</summary>
public sealed record CumulativeIncidenceCurve(IReadOnlyList<CumulativeIncidencePoint> Points)
{
    /// <summary>The risk by <paramref name="time"/>: the step in force then, 0 before the first event time.</summary>
    public double RiskAt(double time) => At(time)?.Risk ?? 0.0;

    /// <summary>The step in force at <paramref name="time"/>, or null before the first event time.</summary>
    public CumulativeIncidencePoint? At(double time) => StepFunction.At(Points, p => p.Time, time);
}

/// <summary>
/// Cumulative incidence as the complement of a (weighted, possibly clustered) Kaplan–Meier curve, the way
/// per-protocol and sequential-trial results are drawn (TrialEmulation's cumulative incidence, ATLAS's
/// "1 − survival" view). The band is the survival band flipped, so it keeps the log-scale band's asymmetry.
/// </summary>
public static class CumulativeIncidence
{
    public static CumulativeIncidenceCurve FromSurvival(KmCurve survival)
    {
        ArgumentNullException.ThrowIfNull(survival);
        return new CumulativeIncidenceCurve([.. survival.Points.Select(p => new CumulativeIncidencePoint(
            p.Time, p.AtRisk, p.Events, 1.0 - p.Survival, p.StdErrLog, 1.0 - p.Upper, 1.0 - p.Lower))]);
    }

    /// <summary>Fits the weighted Kaplan–Meier with a clustered variance and returns its complement.</summary>
    public static CumulativeIncidenceCurve Fit(
        ReadOnlySpan<double> time,
        ReadOnlySpan<int> status,
        ReadOnlySpan<double> weights,
        ReadOnlySpan<long> cluster,
        double confidence = 0.95) =>
        FromSurvival(KaplanMeier.Fit(time, status, weights, cluster, confidence));
}
