using MathNet.Numerics.Distributions;

namespace RwePortal.Analytics.Calibration;

/// <summary>
/// The empirical null: negative-control log relative risks are distributed N(<see cref="Mean"/>, <see cref="Sd"/>²)
/// around the truth (0) plus each estimate's own sampling error. NaN when no usable control was given.
/// </summary>
public sealed record NullDistribution(double Mean, double Sd, int Controls)
{
    public bool IsValid => double.IsFinite(Mean) && double.IsFinite(Sd);
}

/// <summary>
/// A systematic error model (EmpiricalCalibration's fitSystematicErrorModel form): an estimate of true log RR x is
/// biased to mean <c>MeanIntercept + MeanSlope·x</c> with systematic sd <c>SdIntercept + SdSlope·|x|</c>.
/// </summary>
public sealed record SystematicErrorModel(double MeanIntercept, double MeanSlope, double SdIntercept, double SdSlope);

/// <summary>A calibrated estimate on the log scale with its calibrated interval and standard error.</summary>
public sealed record CalibratedEstimate(double LogRr, double Lower, double Upper, double SeLogRr)
{
    public double Rr => Math.Exp(LogRr);

    public double RrLower => Math.Exp(Lower);

    public double RrUpper => Math.Exp(Upper);
}

/// <summary>
/// Empirical calibration of p-values and confidence intervals with negative controls, as OHDSI's
/// EmpiricalCalibration package does it (Schuemie et al. 2014, 2018): <see cref="FitNull"/>, <see cref="CalibrateP"/>,
/// <see cref="ConvertNullToErrorModel"/>, <see cref="CalibrateConfidenceInterval(SystematicErrorModel, double, double, double)"/>
/// and <see cref="ExpectedAbsoluteSystematicError"/> (EASE). See docs/decisions/1021-empirical-calibration.md.
/// </summary>
public static class EmpiricalCalibration
{
    /// <summary>Controls with |log RR| above this (RR beyond 1/100..100) are dropped before fitting, as fitNull does.</summary>
    public static readonly double ExtremeLogRr = Math.Log(100);

    /// <summary>
    /// Maximum-likelihood null distribution: each control's log RR ~ N(mean, sd² + seᵢ²). Controls with a missing or
    /// infinite estimate or standard error, or |log RR| &gt; log 100, are removed first (as fitNull). The maximum is
    /// found exactly: for a given sd the best mean is the precision-weighted mean, and the profile score in sd is
    /// solved by bisection (sd = 0 when the likelihood falls as soon as sd grows).
    /// </summary>
    public static NullDistribution FitNull(IReadOnlyList<(double LogRr, double SeLogRr)> controls)
    {
        ArgumentNullException.ThrowIfNull(controls);
        var usable = controls
            .Where(c => double.IsFinite(c.LogRr) && double.IsFinite(c.SeLogRr) && c.SeLogRr > 0 && Math.Abs(c.LogRr) <= ExtremeLogRr)
            .ToArray();
        if (usable.Length == 0)
        {
            return new NullDistribution(double.NaN, double.NaN, 0);
        }

        var x = usable.Select(c => c.LogRr).ToArray();
        var se2 = usable.Select(c => c.SeLogRr * c.SeLogRr).ToArray();

        double ProfileMean(double sd)
        {
            double sw = 0, swx = 0;
            for (var i = 0; i < x.Length; i++)
            {
                var w = 1.0 / ((sd * sd) + se2[i]);
                sw += w;
                swx += w * x[i];
            }

            return swx / sw;
        }

        // d loglik / d(sd²) at the profile mean (the mean's own derivative is zero there).
        double Score(double sd)
        {
            var mean = ProfileMean(sd);
            var g = 0.0;
            for (var i = 0; i < x.Length; i++)
            {
                var v = (sd * sd) + se2[i];
                var r = x[i] - mean;
                g += ((r * r / v) - 1.0) / v;
            }

            return g;
        }

        if (!(Score(0) > 0))
        {
            return new NullDistribution(ProfileMean(0), 0, usable.Length);
        }

        double lo = 0, hi = 1;
        while (Score(hi) > 0 && hi < 1e6)
        {
            lo = hi;
            hi *= 2;
        }

        for (var k = 0; k < 200 && hi - lo > 1e-15 * hi; k++)
        {
            var mid = 0.5 * (lo + hi);
            if (Score(mid) > 0)
            {
                lo = mid;
            }
            else
            {
                hi = mid;
            }
        }

        var sdHat = 0.5 * (lo + hi);
        return new NullDistribution(ProfileMean(sdHat), sdHat, usable.Length);
    }

    /// <summary>Log-likelihood of the controls under a null (for diagnostics and tests).</summary>
    public static double LogLikelihood(NullDistribution nullDistribution, IReadOnlyList<(double LogRr, double SeLogRr)> controls)
    {
        ArgumentNullException.ThrowIfNull(nullDistribution);
        ArgumentNullException.ThrowIfNull(controls);
        return controls.Sum(c => Normal.PDFLn(nullDistribution.Mean, Math.Sqrt((nullDistribution.Sd * nullDistribution.Sd) + (c.SeLogRr * c.SeLogRr)), c.LogRr));
    }

    /// <summary>
    /// Calibrated p-value (calibrateP): the estimate's position in the null widened by its own standard error.
    /// Two-sided by default; one-sided <paramref name="upper"/> tests RR &gt; 1. NaN for a missing estimate.
    /// </summary>
    public static double CalibrateP(NullDistribution nullDistribution, double logRr, double seLogRr, bool twoSided = true, bool upper = true)
    {
        ArgumentNullException.ThrowIfNull(nullDistribution);
        if (!double.IsFinite(logRr) || !double.IsFinite(seLogRr) || !nullDistribution.IsValid)
        {
            return double.NaN;
        }

        var scale = Math.Sqrt((nullDistribution.Sd * nullDistribution.Sd) + (seLogRr * seLogRr));
        var pUpper = Normal.CDF(0, 1, (nullDistribution.Mean - logRr) / scale);
        var pLower = Normal.CDF(0, 1, (logRr - nullDistribution.Mean) / scale);
        return twoSided ? 2 * Math.Min(pUpper, pLower) : upper ? pUpper : pLower;
    }

    /// <summary>The null as an error model that does not depend on the true effect (convertNullToErrorModel).</summary>
    public static SystematicErrorModel ConvertNullToErrorModel(NullDistribution nullDistribution, double meanSlope = 1, double sdSlope = 0)
    {
        ArgumentNullException.ThrowIfNull(nullDistribution);
        return new SystematicErrorModel(nullDistribution.Mean, meanSlope, nullDistribution.Sd, sdSlope);
    }

    /// <summary>Calibrated estimate and interval through the null converted to an error model.</summary>
    public static CalibratedEstimate CalibrateConfidenceInterval(NullDistribution nullDistribution, double logRr, double seLogRr, double ciWidth = 0.95) =>
        CalibrateConfidenceInterval(ConvertNullToErrorModel(nullDistribution), logRr, seLogRr, ciWidth);

    /// <summary>
    /// calibrateConfidenceInterval: each bound is the true log RR x in [−100, 100] at which the observed estimate is
    /// the z-quantile of N(meanIntercept + meanSlope·x, (sdIntercept + sdSlope·|x|)² + se²); the point estimate uses
    /// z = 0. The standard error is read back from the interval. A bound with no root in range is NaN (R's NA).
    /// </summary>
    public static CalibratedEstimate CalibrateConfidenceInterval(SystematicErrorModel model, double logRr, double seLogRr, double ciWidth = 0.95)
    {
        ArgumentNullException.ThrowIfNull(model);
        if (!double.IsFinite(logRr) || !double.IsFinite(seLogRr) || !double.IsFinite(model.MeanIntercept))
        {
            return new CalibratedEstimate(double.NaN, double.NaN, double.NaN, double.NaN);
        }

        var zHalf = Normal.InvCDF(0, 1, (1 - ciWidth) / 2);
        var point = Bound(model, logRr, seLogRr, 0);
        var lower = Bound(model, logRr, seLogRr, -zHalf);
        var upperBound = Bound(model, logRr, seLogRr, zHalf);
        return new CalibratedEstimate(point, lower, upperBound, (lower - upperBound) / (2 * zHalf));
    }

    private static double Bound(SystematicErrorModel m, double logRr, double se, double z)
    {
        double F(double x)
        {
            var sd = m.SdIntercept + (m.SdSlope * Math.Abs(x));
            return z + ((m.MeanIntercept + (m.MeanSlope * x) - logRr) / Math.Sqrt((sd * sd) + (se * se)));
        }

        double lo = -100, hi = 100;
        double flo = F(lo), fhi = F(hi);
        if (flo == 0)
        {
            return lo;
        }

        if (fhi == 0)
        {
            return hi;
        }

        if (Math.Sign(flo) == Math.Sign(fhi))
        {
            return double.NaN;
        }

        for (var k = 0; k < 200 && hi - lo > 1e-14; k++)
        {
            var mid = 0.5 * (lo + hi);
            var fm = F(mid);
            if (fm == 0)
            {
                return mid;
            }

            if (Math.Sign(fm) == Math.Sign(flo))
            {
                lo = mid;
                flo = fm;
            }
            else
            {
                hi = mid;
            }
        }

        return 0.5 * (lo + hi);
    }

    /// <summary>
    /// Expected absolute systematic error E|X|, X ~ N(mean, sd²) (computeExpectedAbsoluteSystematicError, the
    /// package's closed form): <c>sd·√(2/π)·exp(−mean²/2sd²) + mean·(1 − 2Φ(−mean/sd))</c>; |mean| when sd = 0.
    /// </summary>
    public static double ExpectedAbsoluteSystematicError(NullDistribution nullDistribution)
    {
        ArgumentNullException.ThrowIfNull(nullDistribution);
        var (mu, sigma) = (nullDistribution.Mean, nullDistribution.Sd);
        if (!nullDistribution.IsValid)
        {
            return double.NaN;
        }

        if (sigma == 0)
        {
            return Math.Abs(mu);
        }

        return (sigma * Math.Sqrt(2 / Math.PI) * Math.Exp(-mu * mu / (2 * sigma * sigma))) + (mu * (1 - (2 * Normal.CDF(0, 1, -mu / sigma))));
    }
}
