using RwePortal.Analytics.Balance;
using RwePortal.Analytics.Effects;
using RwePortal.Analytics.Propensity;
using RwePortal.Analytics.Survival;
using RwePortal.Analytics.Weighting;

namespace RwePortal.Analytics.Pipeline;

public sealed record ArmCounts(int Treated, int Control, int EventsTreated, int EventsControl);

public sealed record PropensitySummary(
    IReadOnlyList<string> Names,
    IReadOnlyList<double> Coefficients,
    double CStatistic,
    double Equipoise,
    int Iterations);

public sealed record SurvivalAtHorizon(double Time, double Survival, double Lower, double Upper);

public sealed record NumbersAtRisk(double Time, int Treated, int Control, double WeightedTreated, double WeightedControl);

public sealed record Diagnostics(
    double MaxAbsSmdAfter,
    bool BalancePassed,
    double Equipoise,
    bool EquipoisePassed,
    IReadOnlyList<string> ImbalancedCovariates)
{
    public bool Passed => BalancePassed && EquipoisePassed;
}

/// <summary>Everything a propensity-score outcome analysis reports (the result.json contract).</summary>
public sealed record PsAnalysisResult(
    Estimand Estimand,
    Adjustment Adjustment,
    Truncation? Truncation,
    ArmCounts Counts,
    PropensitySummary Propensity,
    WeightSummary Weights,
    IReadOnlyList<BalanceRow> Balance,
    IReadOnlyList<SurvivalAtHorizon> KmTreated,
    IReadOnlyList<SurvivalAtHorizon> KmControl,
    KmCurve CurveTreated,
    KmCurve CurveControl,
    IReadOnlyList<NumbersAtRisk> RiskTable,
    CoxFit CoxBreslow,
    CoxFit CoxEfron,
    IReadOnlyList<RiskAtHorizon> Risk,
    bool OutcomeCommon,
    EValueResult EValue,
    Diagnostics Diagnostics,
    int MatchedPairs,
    double[] PropensityScores,
    double[] PersonWeights)
{
    /// <summary>Covariates left out of the propensity model because they (almost) perfectly predict treatment, with the reason.</summary>
    public IReadOnlyList<RemovedPsCovariate> RemovedCovariates { get; init; } = [];

    /// <summary>
    /// Minimum detectable hazard ratio (α 0.05, power 0.8; <see cref="Effects.Mdrr"/>) on the persons the adjustment
    /// keeps (weight &gt; 0: everyone when weighting, the matched when matching), as CohortMethod reports it.
    /// </summary>
    public double Mdrr { get; init; } = double.PositiveInfinity;
}

/// <summary>
/// Why an analysis could not run. Codes are stable: Cohort.Invalid, Cohort.ArmEmpty, Propensity.Separation (every
/// covariate separates the arms, or removal is switched off), Propensity.Failed, Adjustment.Failed.
/// </summary>
public sealed record PsAnalysisFailure(string Code, string Message, string? Covariate = null);

/// <summary>Either a result or a failure: expected failures are values, not exceptions.</summary>
public sealed record PsAnalysisOutcome(PsAnalysisResult? Result, PsAnalysisFailure? Failure)
{
    public bool Succeeded => Result is not null;

    public static PsAnalysisOutcome Success(PsAnalysisResult result) => new(result, null);

    public static PsAnalysisOutcome Fail(string code, string message, string? covariate = null) =>
        new(null, new PsAnalysisFailure(code, message, covariate));
}
