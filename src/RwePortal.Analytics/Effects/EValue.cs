namespace RwePortal.Analytics.Effects;

/// <summary>E-value of a hazard ratio and of its confidence limit.</summary>
public sealed record EValueResult(double Point, double Ci);

/// <summary>
/// E-values (VanderWeele &amp; Ding 2017) from a hazard ratio: with a common outcome (event share ≥ 0.15) the HR is
/// first converted to an approximate risk ratio <c>RR = (1 − 0.5^√HR)/(1 − 0.5^√(1/HR))</c>, otherwise RR = HR;
/// a protective RR is inverted; <c>E = RR + sqrt(RR·(RR − 1))</c>. For the CI the limit nearer 1 is used, and
/// the E-value is 1 when the CI contains 1.
/// </summary>
public static class EValue
{
    public const double CommonOutcomeShare = 0.15;

    public static EValueResult FromHazardRatio(double hr, double ciLower, double ciUpper, bool outcomeCommon)
    {
        var rrPoint = ToRiskRatio(hr, outcomeCommon);
        var rrLow = ToRiskRatio(ciLower, outcomeCommon);
        var rrHigh = ToRiskRatio(ciUpper, outcomeCommon);
        var ci = rrLow <= 1 && rrHigh >= 1 ? 1.0 : OfRiskRatio(rrPoint < 1 ? rrHigh : rrLow);
        return new EValueResult(OfRiskRatio(rrPoint), ci);
    }

    public static double ToRiskRatio(double hr, bool outcomeCommon) =>
        outcomeCommon ? (1 - Math.Pow(0.5, Math.Sqrt(hr))) / (1 - Math.Pow(0.5, Math.Sqrt(1 / hr))) : hr;

    public static double OfRiskRatio(double rr)
    {
        if (rr < 1)
        {
            rr = 1 / rr;
        }

        return rr + Math.Sqrt(rr * (rr - 1));
    }
}
