namespace RwePortal.Analytics.Numerics;

/// <summary>The logit link with R's guards (stats' C_logit_linkinv and C_logit_mu_eta).</summary>
internal static class Logistic
{
    private const double Threshold = 30.0;
    private const double DoubleEpsilon = 2.220446049250313e-16;
    private const double InverseEpsilon = 1.0 / DoubleEpsilon;

    /// <summary>Inverse logit, clamped exactly as R does so fitted values never reach 0 or 1.</summary>
    public static double Inverse(double eta)
    {
        var e = eta < -Threshold ? DoubleEpsilon : eta > Threshold ? InverseEpsilon : Math.Exp(eta);
        return e / (1.0 + e);
    }

    /// <summary>d mu / d eta, floored at machine epsilon as in R.</summary>
    public static double Derivative(double eta)
    {
        if (eta > Threshold || eta < -Threshold)
        {
            return DoubleEpsilon;
        }

        var opexp = 1.0 + Math.Exp(eta);
        return Math.Exp(eta) / (opexp * opexp);
    }

    public static double Logit(double p) => Math.Log(p / (1.0 - p));
}
