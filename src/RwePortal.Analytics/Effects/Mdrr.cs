using MathNet.Numerics.Distributions;

namespace RwePortal.Analytics.Effects;

/// <summary>
/// Minimum detectable relative risk for a Cox comparison (CohortMethod's computeMdrr, Schoenfeld 1983):
/// <c>exp(√((z₁₋α/₂ + z_power)² / (pA·pB·events)))</c> with pA, pB the arms' shares of persons.
/// </summary>
public static class Mdrr
{
    public const double DefaultAlpha = 0.05;
    public const double DefaultPower = 0.8;

    /// <summary>The MDRR; +∞ when there are no events or an arm is empty (nothing is detectable).</summary>
    public static double Compute(long treated, long comparator, long events, double alpha = DefaultAlpha, double power = DefaultPower)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(treated);
        ArgumentOutOfRangeException.ThrowIfNegative(comparator);
        ArgumentOutOfRangeException.ThrowIfNegative(events);
        if (!(alpha is > 0 and < 1) || !(power is > 0 and < 1))
        {
            throw new ArgumentOutOfRangeException(nameof(alpha), "Alpha and power must lie strictly between 0 and 1.");
        }

        if (treated == 0 || comparator == 0 || events == 0)
        {
            return double.PositiveInfinity;
        }

        var total = (double)(treated + comparator);
        var pA = treated / total;
        var pB = comparator / total;
        var z = Normal.InvCDF(0, 1, 1 - (alpha / 2)) + Normal.InvCDF(0, 1, power);
        return Math.Exp(Math.Sqrt(z * z / (pA * pB * events)));
    }
}
