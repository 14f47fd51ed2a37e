using RwePortal.Warehouse.Protocols;

namespace RwePortal.Warehouse.Analyses;

/// <summary>
/// What <see cref="CovariateExtractor"/> builds: the assignment's covariate specs (each a modality, a window relative to
/// time zero and optionally a concept set), the consent the statement applies (<see cref="Source"/>, <see cref="Purpose"/>),
/// the rare-covariate filter and the cap (docs/covariates.md, decisions 1000–1004).
/// </summary>
public sealed record CovariateSettings
{
    /// <summary>Default share of the population below which a binary covariate is dropped (0.1 %).</summary>
    public const double DefaultRareShare = 0.001;

    /// <summary>Default number of persons below which a binary covariate is dropped.</summary>
    public const int DefaultRareMinimumPersons = 5;

    /// <summary>Default cap on the number of covariates (continuous ones are always kept; binary ones by prevalence).</summary>
    public const int DefaultMaxCovariates = 10_000;

    /// <summary>The covariate specs, in the assignment's order (their order is the order of <see cref="CovariateData.Refs"/>).</summary>
    public required IReadOnlyList<CovariateSpec> Specs { get; init; }

    /// <summary>The source's registered name, for the consent filter every statement joins.</summary>
    public string Source { get; init; } = "";

    /// <summary>The consent purpose the run is for.</summary>
    public string Purpose { get; init; } = "";

    /// <summary>Binary covariates present in fewer than max(<see cref="RareMinimumPersons"/>, ⌈share × persons⌉) persons are dropped.</summary>
    public double RareShare { get; init; } = DefaultRareShare;

    public int RareMinimumPersons { get; init; } = DefaultRareMinimumPersons;

    public int MaxCovariates { get; init; } = DefaultMaxCovariates;

    /// <summary>
    /// The settings of a protocol's assignment: one analysis per spec. A spec that names a modality without concepts
    /// gets the large-scale set of that modality; one with concepts gets one covariate per included concept item.
    /// The consent (<see cref="Source"/>, <see cref="Purpose"/>) is the run's: set it with <c>with</c> or use the overload.
    /// </summary>
    public static CovariateSettings From(Assignment assignment)
    {
        ArgumentNullException.ThrowIfNull(assignment);
        return new CovariateSettings { Specs = assignment.Covariates.ToList() };
    }

    /// <summary>The settings of a protocol's assignment for one source and consent purpose.</summary>
    public static CovariateSettings From(Assignment assignment, string source, string purpose) =>
        From(assignment) with { Source = source, Purpose = purpose };

    /// <summary>Every modality's large-scale set with its default window (what a protocol without an assignment would get).</summary>
    public static CovariateSettings LargeScale(string source, string purpose) => new()
    {
        Source = source,
        Purpose = purpose,
        Specs = Enum.GetValues<CovariateModality>()
            .Select(m => new CovariateSpec(m.ToString().ToLowerInvariant(), m, null, null, []))
            .ToList(),
    };

    /// <summary>The number of persons a binary covariate needs to be kept, in a population of <paramref name="persons"/>.</summary>
    public int RareThreshold(int persons) => Math.Max(RareMinimumPersons, (int)Math.Ceiling(RareShare * persons));
}

/// <summary>How a covariate's group names its spec and its analysis.</summary>
public static class CovariateGroups
{
    /// <summary>The separator between the spec's name and the analysis in <see cref="CovariateRef.Group"/> ("conditions/condition 365d").</summary>
    public const char Separator = '/';

    /// <summary>The name of the assignment's spec a covariate came from (what the PS model's covariate list names).</summary>
    public static string Spec(this CovariateRef covariate)
    {
        ArgumentNullException.ThrowIfNull(covariate);
        var at = covariate.Group.LastIndexOf(Separator);
        return at < 0 ? covariate.Group : covariate.Group[..at];
    }

    /// <summary>The analysis within the spec ("condition 365d", "condition group 30d", "measurement latest", "demographics").</summary>
    public static string Analysis(this CovariateRef covariate)
    {
        ArgumentNullException.ThrowIfNull(covariate);
        var at = covariate.Group.LastIndexOf(Separator);
        return at < 0 ? covariate.Group : covariate.Group[(at + 1)..];
    }
}
