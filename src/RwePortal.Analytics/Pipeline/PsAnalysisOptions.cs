using RwePortal.Analytics.Effects;
using RwePortal.Analytics.Weighting;

namespace RwePortal.Analytics.Pipeline;

/// <summary>How the propensity score adjusts the comparison.</summary>
public enum Adjustment
{
    /// <summary>Inverse-probability (or overlap) weighting for the chosen estimand.</summary>
    Weighting,

    /// <summary>1:1 nearest-neighbour matching on the logit PS within a caliper (estimates the ATT).</summary>
    Matching,

    /// <summary>PS quintile strata with marginal mean weights.</summary>
    Stratification,
}

/// <summary>Quantiles of all weights to which every weight is clipped.</summary>
public sealed record Truncation(double Low, double High);

/// <summary>Options of a propensity-score outcome analysis.</summary>
public sealed record PsAnalysisOptions
{
    public Estimand Estimand { get; init; } = Estimand.Ate;

    public Truncation? Truncation { get; init; }

    public Adjustment Adjustment { get; init; } = Adjustment.Weighting;

    /// <summary>Caliper for matching, in standard deviations of the logit PS.</summary>
    public double CaliperSd { get; init; } = NearestNeighbourMatching.DefaultCaliperSd;

    public int Strata { get; init; } = 5;

    public IReadOnlyList<double> Horizons { get; init; } = RiskEffects.DefaultHorizons;

    /// <summary>Times at which the numbers-at-risk table is reported.</summary>
    public IReadOnlyList<double> RiskTableTimes { get; init; } = [0, 90, 180, 365, 730];

    /// <summary>Balance passes when every |SMD| after adjustment is below this.</summary>
    public double SmdThreshold { get; init; } = 0.1;

    /// <summary>Equipoise passes when at least this share has a preference score in [0.3, 0.7].</summary>
    public double EquipoiseThreshold { get; init; } = 0.2;

    /// <summary>
    /// A covariate that (almost) perfectly predicts treatment is left out of the propensity model and named in
    /// <see cref="PsAnalysisResult.RemovedCovariates"/> (true, the default), or stops the analysis with
    /// Propensity.Separation (false; what <c>rwe ps-analysis</c> does, as its specification asks).
    /// </summary>
    public bool RemoveSeparatingCovariates { get; init; } = true;

    /// <summary>
    /// The sparse (penalised) propensity model leaves out a 0/1 covariate whose correlation with treatment exceeds
    /// this in absolute value (CohortMethod's high-correlation check).
    /// </summary>
    public double HighCorrelationThreshold { get; init; } = 0.5;
}
