using MathNet.Numerics.Distributions;
using RwePortal.Analytics.Survival;

namespace RwePortal.Analytics.Effects;

/// <summary>Absolute risks <c>1 − S(t)</c> per arm at a horizon, their difference and ratio (treated vs control).</summary>
public sealed record RiskAtHorizon(
    double Horizon,
    double RiskTreated,
    double RiskControl,
    double RiskDifference,
    double RiskRatio,
    double RiskDifferenceLower,
    double RiskDifferenceUpper);

public static class RiskEffects
{
    /// <summary>The horizons (days) the portal reports.</summary>
    public static readonly IReadOnlyList<double> DefaultHorizons = [90, 180, 365, 730];

    /// <summary>
    /// Risks from the two Kaplan–Meier curves; the 95% CI of the difference treats the arms as independent, with
    /// <c>Var S = S²·Var log S</c> from each curve's robust variance (weights held fixed).
    /// </summary>
    public static IReadOnlyList<RiskAtHorizon> Compute(KmCurve treated, KmCurve control, IReadOnlyList<double> horizons)
    {
        var z = Normal.InvCDF(0, 1, 0.975);
        var rows = new List<RiskAtHorizon>(horizons.Count);
        foreach (var h in horizons)
        {
            var p1 = treated.At(h);
            var p0 = control.At(h);
            var s1 = p1?.Survival ?? 1.0;
            var s0 = p0?.Survival ?? 1.0;
            var v1 = p1 is null ? 0 : s1 * s1 * p1.StdErrLog * p1.StdErrLog;
            var v0 = p0 is null ? 0 : s0 * s0 * p0.StdErrLog * p0.StdErrLog;
            var r1 = 1 - s1;
            var r0 = 1 - s0;
            var rd = r1 - r0;
            var se = Math.Sqrt(v1 + v0);
            rows.Add(new RiskAtHorizon(h, r1, r0, rd, r1 / r0, rd - (z * se), rd + (z * se)));
        }

        return rows;
    }
}
