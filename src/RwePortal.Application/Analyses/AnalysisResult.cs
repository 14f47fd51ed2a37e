using RwePortal.Application.Privacy;

namespace RwePortal.Application.Analyses;

/// <summary>
/// What a finished run of a protocol reports: the aggregates the results page, the exports, the printed report and
/// `rwe run-protocol --out` show (format version <see cref="CurrentFormat"/>). Built once by the run pipeline with every
/// count already through the tenant's small-cell policy (<see cref="Shown"/>); exact counts never leave the pipeline.
/// Statistics (SMDs, hazard ratios, curves) are not counts and are kept as computed, except where a curve or table
/// would reveal a small count (curves end where fewer than the threshold remain at risk).
/// </summary>
public sealed record AnalysisResultDocument(
    int Format,
    AnalysisHeader Header,
    IReadOnlyList<AttritionLine> Attrition,
    ArmSummary Arms,
    PreferenceScoreDistribution PreferenceScore,
    IReadOnlyList<BalanceLine> Balance,
    DiagnosticsReport Diagnostics,
    IReadOnlyList<SurvivalCurve> Curves,
    IReadOnlyList<RiskTableLine> NumbersAtRisk,
    EffectEstimates Estimates,
    IReadOnlyList<NegativeControlEstimate> NegativeControls,
    IReadOnlyList<SubgroupEstimate> Subgroups,
    IReadOnlyList<CovariateAggregate> Covariates)
{
    public const int CurrentFormat = 1;
}

/// <summary>A protected count as shown: <see cref="Value"/> is null when hidden; <see cref="Display"/> is always set ("&lt;11", "~1,230").</summary>
public sealed record Shown(long? Value, string Display)
{
    public static Shown From(ProtectedCount count)
    {
        ArgumentNullException.ThrowIfNull(count);
        return new Shown(count.Value, count.Display);
    }
}

/// <summary>The run's identity as the reader needs it on every page and export.</summary>
public sealed record AnalysisHeader(
    string ProtocolTitle,
    int ProtocolVersion,
    string ProtocolHash,
    string Source,
    string Purpose,
    string TreatmentLabel,
    string ComparatorLabel,
    string OutcomeLabel,
    string Contrast,
    string Estimand,
    string Adjustment,
    string PsModel,
    DateTimeOffset FinishedAt);

/// <summary>One attrition line: persons left in each arm after the step (protected).</summary>
public sealed record AttritionLine(string Step, Shown Treatment, Shown Comparator);

/// <summary>Persons, outcome events and person-years of follow-up per arm, before adjustment, and the effective sample size after it.</summary>
public sealed record ArmSummary(
    Shown PersonsTreatment,
    Shown PersonsComparator,
    Shown EventsTreatment,
    Shown EventsComparator,
    double PersonYearsTreatment,
    double PersonYearsComparator,
    double EffectiveSampleSizeTreatment,
    double EffectiveSampleSizeComparator);

/// <summary>Preference-score densities of both arms on shared bin centres (0..1), each density integrating to 1.</summary>
public sealed record PreferenceScoreDistribution(
    IReadOnlyList<double> BinCentres,
    IReadOnlyList<double> DensityTreatment,
    IReadOnlyList<double> DensityComparator,
    double CStatistic);

/// <summary>
/// Balance of one covariate: means (proportions for binary covariates) per arm and the standardised mean difference,
/// before and after adjustment. <see cref="Group"/> names the covariate's analysis (e.g. "condition 365d", "demographics").
/// </summary>
public sealed record BalanceLine(
    string Covariate,
    string Group,
    double MeanTreatmentBefore,
    double MeanComparatorBefore,
    double SmdBefore,
    double MeanTreatmentAfter,
    double MeanComparatorAfter,
    double SmdAfter);

/// <summary>One pass/fail gate of the protocol's diagnostics, with the value measured and the threshold it was held to.</summary>
public sealed record DiagnosticGate(string Name, double Value, double Threshold, bool Passed, string Rule);

/// <summary>
/// The diagnostics: the gates (max |SMD|, equipoise, ESS per arm, MDRR, EASE when negative controls ran), covariates the
/// run removed (e.g. a near-perfect predictor of treatment) with the reason, and notes (e.g. weights truncated).
/// </summary>
public sealed record DiagnosticsReport(
    IReadOnlyList<DiagnosticGate> Gates,
    IReadOnlyList<RemovedCovariate> RemovedCovariates,
    IReadOnlyList<string> Notes)
{
    public bool Passed => Gates.All(gate => gate.Passed);
}

public sealed record RemovedCovariate(string Covariate, string Reason);

/// <summary>
/// One arm's curve: <see cref="Kind"/> is "survival" (weighted Kaplan–Meier) or "cumulativeIncidence" (1 − KM, or the
/// per-protocol IPCW curve), with a pointwise 95% band. Times in days from time zero; the curve ends where fewer persons
/// than the small-cell threshold remain at risk.
/// </summary>
public sealed record SurvivalCurve(
    string Arm,
    string Kind,
    IReadOnlyList<double> Time,
    IReadOnlyList<double> Estimate,
    IReadOnlyList<double> Lower,
    IReadOnlyList<double> Upper);

/// <summary>Numbers at risk at a time (days), per arm: persons (protected) and weighted.</summary>
public sealed record RiskTableLine(double Time, Shown Treatment, Shown Comparator, double WeightedTreatment, double WeightedComparator);

/// <summary>An estimate with its 95% confidence interval and two-sided p-value.</summary>
public sealed record Estimate(double Value, double Lower, double Upper, double? P);

/// <summary>Risks, their difference and ratio at a horizon (days).</summary>
public sealed record HorizonEffect(int Days, double RiskTreatment, double RiskComparator, Estimate RiskDifference, Estimate RiskRatio);

/// <summary>
/// The effect estimates: the adjusted hazard ratio (weighted Cox, robust variance clustered by person), the unadjusted one,
/// the calibrated hazard ratio (empirical calibration on the negative controls; null without them), risk effects at the
/// protocol's horizons, the E-value of the adjusted estimate and of its confidence limit nearer the null.
/// </summary>
public sealed record EffectEstimates(
    Estimate HazardRatio,
    Estimate UnadjustedHazardRatio,
    Estimate? CalibratedHazardRatio,
    IReadOnlyList<HorizonEffect> Horizons,
    double EValue,
    double EValueLimit);

/// <summary>A negative-control outcome's estimate (an outcome the treatment should not affect).</summary>
public sealed record NegativeControlEstimate(long ConceptId, string Name, Shown Events, Estimate HazardRatio);

/// <summary>The effect in one heterogeneity subgroup of the protocol, with that subgroup's own balance.</summary>
public sealed record SubgroupEstimate(
    string Name,
    Shown PersonsTreatment,
    Shown PersonsComparator,
    Shown EventsTreatment,
    Shown EventsComparator,
    Estimate? HazardRatio,
    double MaxAbsSmdAfter,
    bool BalancePassed,
    string? Note);

/// <summary>A covariate as an aggregate only: how many persons in each arm have it (protected) or, for continuous ones, the mean.</summary>
public sealed record CovariateAggregate(
    string Covariate,
    string Group,
    Shown? CountTreatment,
    Shown? CountComparator,
    double? MeanTreatment,
    double? MeanComparator);
