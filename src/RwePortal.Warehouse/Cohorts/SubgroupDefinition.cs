namespace RwePortal.Warehouse.Cohorts;

/// <summary>
/// A subgroup definition (docs/criteria.md, version 1): an optional index event that gives every person one index
/// date, and the top-level criteria, all of which must hold (their order is the order of the attrition table).
/// Built only by <see cref="SubgroupDefinitionParser"/>, which has validated every value.
/// </summary>
public sealed record SubgroupDefinition(int Version, string? Name, EventCriterion? Index, IReadOnlyList<CriterionNode> Criteria);

/// <summary>A node of the boolean tree; <see cref="Path"/> names it in the document (e.g. <c>criteria[2].any[0]</c>).</summary>
public abstract record CriterionNode(string Path, string? Label);

/// <summary>Every child holds.</summary>
public sealed record AllNode(string Path, string? Label, IReadOnlyList<CriterionNode> Nodes) : CriterionNode(Path, Label);

/// <summary>At least one child holds.</summary>
public sealed record AnyNode(string Path, string? Label, IReadOnlyList<CriterionNode> Nodes) : CriterionNode(Path, Label);

/// <summary>The child does not hold.</summary>
public sealed record NotNode(string Path, string? Label, CriterionNode Node) : CriterionNode(Path, Label);

/// <summary>Age at the index date in whole years (year of index − year of birth), within the bounds.</summary>
public sealed record AgeCriterion(string Path, string? Label, int? Min, int? Max) : CriterionNode(Path, Label);

/// <summary>The person's sex, race or ethnicity concept is one of <see cref="ConceptIds"/>.</summary>
public sealed record PersonAttributeCriterion(string Path, string? Label, PersonAttribute Attribute, IReadOnlyList<int> ConceptIds)
    : CriterionNode(Path, Label);

/// <summary>
/// Events of one domain whose concept is in a concept set (with descendants through concept_ancestor), optionally
/// with a value range and units (measurement, observation, PRO), in a window, as the first, last or any occurrence,
/// and a number of occurrences; optionally recorded during a visit of one of <see cref="VisitTypes"/> (e.g. 9201
/// inpatient: "an HF admission").
/// </summary>
public sealed record EventCriterion(
    string Path,
    string? Label,
    EventDomain Domain,
    IReadOnlyList<ConceptItem> Concepts,
    Occurrence Occurrence,
    Window? Window,
    CountRange Count,
    ValueRange? Value,
    IReadOnlyList<int> Units,
    IReadOnlyList<int>? VisitTypes = null,
    IReadOnlyList<ConceptSetReference>? ConceptSets = null) : CriterionNode(Path, Label);

/// <summary>Genomic variants (variant_occurrence) that match every field given.</summary>
public sealed record VariantCriterion(
    string Path,
    string? Label,
    string? Gene,
    IReadOnlyList<string> HgvsC,
    IReadOnlyList<string> HgvsP,
    IReadOnlyList<string> Rsids,
    IReadOnlyList<string> Zygosity,
    IReadOnlyList<string> Significance,
    Window? Window,
    CountRange Count) : CriterionNode(Path, Label);

/// <summary>A polygenic score (genomic_score) whose percentile and/or value is in range.</summary>
public sealed record GenomicScoreCriterion(string Path, string? Label, string ScoreId, ValueRange? Percentile, ValueRange? Value, Window? Window)
    : CriterionNode(Path, Label);

/// <summary>
/// The mean over worn days (a day with wear minutes &gt; 0) of a daily wearable metric within a bounded window, with
/// at least <see cref="MinDaysWorn"/> worn days; optionally its change in percent from the same person's mean over an
/// earlier baseline window (which needs as many worn days).
/// </summary>
public sealed record WearableCriterion(
    string Path, string? Label, WearableMetric Metric, ValueRange? Mean, int MinDaysWorn, Window Window, WearableBaseline? Baseline = null)
    : CriterionNode(Path, Label);

/// <summary>A baseline window and the range of (mean in window − mean in baseline) / mean in baseline × 100.</summary>
public sealed record WearableBaseline(Window Window, ValueRange ChangePercent);

/// <summary>Enrolled (payer_plan_period) on every day of a bounded window, allowing gaps of at most <see cref="AllowedGapDays"/> days.</summary>
public sealed record EnrollmentCriterion(string Path, string? Label, Window Window, int AllowedGapDays) : CriterionNode(Path, Label);

/// <summary>
/// Adherence as the proportion of days covered (PDC): the days of a bounded window on which a drug_exposure of the
/// concept set runs (start to end date), divided by the window's days, within <see cref="Pdc"/> (a fraction, 0 to 1).
/// </summary>
public sealed record AdherenceCriterion(
    string Path, string? Label, IReadOnlyList<ConceptItem> Concepts, Window Window, ValueRange Pdc, IReadOnlyList<ConceptSetReference>? ConceptSets = null)
    : CriterionNode(Path, Label);

/// <summary>
/// The person is a member of a subgroup saved in the portal's library (its own index event and windows).
/// <see cref="Definition"/> is null as parsed and set by the portal's reference resolution; only a resolved
/// reference compiles. The command line, which reads files, refuses references (they are one tenant's objects).
/// </summary>
public sealed record SubgroupCriterion(string Path, string? Label, Guid Id, SubgroupDefinition? Definition = null) : CriterionNode(Path, Label);

/// <summary>
/// An item <c>{"conceptSet": "&lt;id&gt;"}</c> of a concept list: a concept set saved in the portal's library, expanded
/// into the list (as if its items were written in place) from its current revision when the definition is counted.
/// </summary>
public sealed record ConceptSetReference(string Path, Guid Id);

/// <summary>One concept of a concept set: with or without its descendants, included or excluded.</summary>
public sealed record ConceptItem(int Id, bool Descendants, bool Exclude);

/// <summary>
/// Where an event may lie: <see cref="Start"/>/<see cref="End"/> are days relative to the index date (negative =
/// before, both inclusive), <see cref="From"/>/<see cref="To"/> calendar dates (inclusive). Any bound may be absent.
/// </summary>
public sealed record Window(int? Start, int? End, DateOnly? From, DateOnly? To)
{
    public bool IsRelative => Start is not null || End is not null;

    public bool IsBounded => (Start is not null && End is not null) || (From is not null && To is not null);
}

/// <summary>Bounds on a number; at most one lower (gte or gt) and one upper (lte or lt).</summary>
public sealed record ValueRange(double? Gte, double? Gt, double? Lte, double? Lt);

/// <summary>How many occurrences (inclusive).</summary>
public sealed record CountRange(int Min, int? Max)
{
    public static CountRange AtLeastOne { get; } = new(1, null);
}

public enum PersonAttribute
{
    Sex,
    Race,
    Ethnicity,
}

public enum EventDomain
{
    Condition,
    Drug,
    Procedure,
    Observation,
    Measurement,
    Visit,
    Pro,
}

public enum Occurrence
{
    Any,
    First,
    Last,
}

public enum WearableMetric
{
    Steps,
    RestingHeartRate,
    Hrv,
    SleepMinutes,
}
