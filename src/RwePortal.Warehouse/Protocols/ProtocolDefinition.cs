using RwePortal.Warehouse.Cohorts;

namespace RwePortal.Warehouse.Protocols;

/// <summary>
/// A target-trial-emulation protocol (docs/protocols.md, version 1): general information and the seven components of
/// a target trial. Built only by <see cref="ProtocolParser"/>. From <see cref="ProtocolParser.Parse"/> every component
/// is present; from <see cref="ProtocolParser.ParseDraft"/> a component that is missing or not yet complete is null
/// (its text, when present, is still in <see cref="Components"/>).
/// </summary>
public sealed record ProtocolDefinition(
    int Version,
    GeneralInformation? General,
    Eligibility? Eligibility,
    TreatmentStrategies? Strategies,
    Assignment? Assignment,
    TimeZero? TimeZero,
    FollowUp? FollowUp,
    Outcome? Outcome,
    CausalContrast? Contrast,
    AnalysisPlan? AnalysisPlan)
{
    /// <summary>
    /// The canonical JSON of each component present in the document, in the order of <see cref="ProtocolComponents.All"/>
    /// (keys: general, eligibility, strategies, assignment, timeZero, followUp, outcome, contrast, analysisPlan).
    /// Two versions differ in a component exactly when these texts differ.
    /// </summary>
    public IReadOnlyDictionary<string, string> Components { get; init; } = new Dictionary<string, string>();

    /// <summary>Whether every component is present and complete (what submission needs).</summary>
    public bool IsComplete => General is not null && Eligibility is not null && Strategies is not null && Assignment is not null
        && TimeZero is not null && FollowUp is not null && Outcome is not null && Contrast is not null && AnalysisPlan is not null;
}

/// <summary>The component names, as used in documents, errors and <see cref="ProtocolDefinition.Components"/>.</summary>
public static class ProtocolComponents
{
    public const string General = "general";
    public const string Eligibility = "eligibility";
    public const string Strategies = "strategies";
    public const string Assignment = "assignment";
    public const string TimeZero = "timeZero";
    public const string FollowUp = "followUp";
    public const string Outcome = "outcome";
    public const string Contrast = "contrast";
    public const string AnalysisPlan = "analysisPlan";

    /// <summary>Every component, in document (and canonical) order.</summary>
    public static IReadOnlyList<string> All { get; } = [General, Eligibility, Strategies, Assignment, TimeZero, FollowUp, Outcome, Contrast, AnalysisPlan];
}

/// <summary>Title, registry identifiers (e.g. clinicaltrials.gov, EU PAS), objective and rationale. No author: the portal records who wrote it.</summary>
public sealed record GeneralInformation(string Title, string? Objective, string? Rationale, IReadOnlyList<StudyIdentifier> Identifiers);

/// <summary>An identifier of the study in a registry.</summary>
public sealed record StudyIdentifier(string System, string Value);

/// <summary>
/// Who may enter the trial, judged at time zero: age at time zero, days of observation before it (the look-back
/// baseline covariates need), continuous enrollment before it, exclusion of persons with the outcome before it
/// (applied only once the version is approved: see decision 0902), and criteria of the subgroup criteria model
/// relative to time zero (each one an attrition step, in order).
/// </summary>
public sealed record Eligibility(
    int? MinAge,
    int? MaxAge,
    int? PriorObservationDays,
    ContinuousEnrollment? ContinuousEnrollment,
    PriorOutcomeExclusion? ExcludePriorOutcome,
    IReadOnlyList<CriterionNode> Criteria);

/// <summary>Enrolled (payer_plan_period) on every day of the <see cref="Days"/> days before time zero, allowing gaps of at most <see cref="AllowedGapDays"/>.</summary>
public sealed record ContinuousEnrollment(int Days, int AllowedGapDays);

/// <summary>Exclude persons with the outcome before time zero, over the whole history (<see cref="LookbackDays"/> null) or the days given.</summary>
public sealed record PriorOutcomeExclusion(int? LookbackDays);

/// <summary>
/// The two strategies compared, each a concept set of drugs (with descendants), in a new-user design: time zero is
/// the person's first dispensing of either set, with <see cref="NewUserWashoutDays"/> days observed before it
/// without either; a person who starts the other set within <see cref="GracePeriodDays"/> days of time zero cannot
/// be assigned and is excluded.
/// </summary>
public sealed record TreatmentStrategies(Strategy Treatment, Strategy Comparator, int NewUserWashoutDays, int GracePeriodDays);

/// <summary>One strategy: a label and a concept set.</summary>
public sealed record Strategy(string Label, IReadOnlyList<ConceptItem> Concepts);

/// <summary>The baseline covariates the analysis adjusts for, each a modality over a window strictly before time zero.</summary>
public sealed record Assignment(IReadOnlyList<CovariateSpec> Covariates);

/// <summary>A named covariate group: a modality, a window relative to time zero (days, ending before it) and optionally a concept set.</summary>
public sealed record CovariateSpec(string Name, CovariateModality Modality, int? WindowStart, int? WindowEnd, IReadOnlyList<ConceptItem> Concepts);

public enum CovariateModality
{
    Demographics,
    Condition,
    Drug,
    Procedure,
    Measurement,
    Observation,
    Visit,
    Variant,
    GenomicScore,
    Wearable,
    Claims,
    Pro,
}

/// <summary>Time zero: the first dispensing of either strategy (version 1 has this anchor only), within the study period when one is given.</summary>
public sealed record TimeZero(string Anchor, DateOnly? StudyPeriodFrom, DateOnly? StudyPeriodTo);

/// <summary>
/// Follow-up from time zero to the first of the events in <see cref="EndAt"/> or <see cref="MaxDays"/>; per-protocol
/// censoring at a switch to the other strategy and/or at discontinuation (a gap in supply longer than
/// <see cref="AllowedGapDays"/>).
/// </summary>
public sealed record FollowUp(int MaxDays, IReadOnlyList<FollowUpEnd> EndAt, bool CensorAtSwitch, bool CensorAtDiscontinuation, int? AllowedGapDays);

public enum FollowUpEnd
{
    Outcome,
    Death,
    Disenrollment,
    EndOfData,
}

/// <summary>The outcome: its first occurrence after time zero (events in the first <see cref="BlankingDays"/> days are not counted).</summary>
public sealed record Outcome(string Label, EventCriterion Event, int BlankingDays);

/// <summary>The causal contrast: an intention-to-treat analogue or the per-protocol effect.</summary>
public sealed record CausalContrast(ContrastType Type);

public enum ContrastType
{
    IntentionToTreat,
    PerProtocol,
}

/// <summary>The statistical analysis plan.</summary>
public sealed record AnalysisPlan(
    PropensityScoreModel PropensityScore,
    Estimand Estimand,
    Adjustment Adjustment,
    WeightTruncation? Truncation,
    MatchingSpec? Matching,
    int? Strata,
    IReadOnlyList<OutcomeModel> OutcomeModels,
    IReadOnlyList<int> HorizonsDays,
    IReadOnlyList<HeterogeneitySubgroup> Heterogeneity,
    IReadOnlyList<int> NegativeControlOutcomes,
    DiagnosticThresholds Diagnostics);

/// <summary>The PS model: the covariate groups of the assignment it uses (empty = all), dense or L1-penalised with cross-validation folds.</summary>
public sealed record PropensityScoreModel(IReadOnlyList<string> Covariates, PsModelKind Model, int? CrossValidationFolds);

public enum PsModelKind
{
    Dense,
    L1,
}

public enum Estimand
{
    Ate,
    Att,
    Overlap,
}

public enum Adjustment
{
    Weighting,
    Matching,
    Stratification,
}

/// <summary>Weights clipped to the <see cref="Lower"/> and <see cref="Upper"/> quantiles (e.g. 0.01, 0.99).</summary>
public sealed record WeightTruncation(double Lower, double Upper);

/// <summary>Matching ratio (1:n) and caliper (in standard deviations of the logit of the PS).</summary>
public sealed record MatchingSpec(int Ratio, double? Caliper);

public enum OutcomeModel
{
    KaplanMeier,
    Cox,
    RiskDifference,
    RiskRatio,
}

/// <summary>A subgroup for heterogeneity of the effect: criteria of any modality relative to time zero.</summary>
public sealed record HeterogeneitySubgroup(string Name, IReadOnlyList<CriterionNode> Criteria);

/// <summary>Pass/fail thresholds of the diagnostics: max |SMD| after adjustment, equipoise (share of persons with a preference score in [lower, upper]), minimum ESS per arm.</summary>
public sealed record DiagnosticThresholds(double MaxAbsSmd, EquipoiseThreshold? Equipoise, int? MinEffectiveSampleSize);

/// <summary>At least <see cref="MinShare"/> of persons with a preference score between <see cref="Lower"/> and <see cref="Upper"/>.</summary>
public sealed record EquipoiseThreshold(double Lower, double Upper, double MinShare);
