namespace RwePortal.Warehouse.Quality;

/// <summary>The four kinds of checks, after OHDSI's Data Quality Dashboard (Kahn et al.) plus cross-modality consistency.</summary>
public enum DqCategory
{
    Conformance,
    Completeness,
    Plausibility,
    Consistency,
}

public enum DqStatus
{
    Pass,
    Warn,
    Fail,

    /// <summary>Nothing to check: the table has no rows, or the check needs a vocabulary that is not loaded.</summary>
    NotApplicable,
}

/// <summary>
/// One data-quality check as data. <see cref="Sql"/> returns one row <c>(violating bigint, total bigint)</c>, with
/// <c>{{schema}}</c> standing for the (validated) schema and values as Dapper parameters from <see cref="Parameters"/>.
/// The share of violating rows (percent of total) is compared with the thresholds: above
/// <see cref="FailAbovePercent"/> fails, above <see cref="WarnAbovePercent"/> warns, else passes.
/// </summary>
public sealed record DqCheck(
    string Id,
    DqCategory Category,
    string Table,
    string? Field,
    string Description,
    string Sql,
    double FailAbovePercent,
    double? WarnAbovePercent = null,
    object? Parameters = null,
    bool RequiresVocabulary = false)
{
    public DqStatus StatusOf(long violating, long total)
    {
        if (total == 0)
        {
            return DqStatus.NotApplicable;
        }

        var percent = 100.0 * violating / total;
        if (percent > FailAbovePercent)
        {
            return DqStatus.Fail;
        }

        return WarnAbovePercent is { } warn && percent > warn ? DqStatus.Warn : DqStatus.Pass;
    }
}

/// <summary>The outcome of one check.</summary>
public sealed record DqResult(
    string Id,
    DqCategory Category,
    string Table,
    string? Field,
    string Description,
    DqStatus Status,
    long Violating,
    long Total,
    double ViolatingPercent,
    double FailAbovePercent,
    double? WarnAbovePercent,
    string? Note);

/// <summary>A data-quality report of one data source.</summary>
public sealed record DqReport(
    string Source,
    string SchemaName,
    DateTimeOffset StartedAt,
    TimeSpan Duration,
    bool VocabularyLoaded,
    IReadOnlyList<DqResult> Results)
{
    public int Count(DqStatus status) => Results.Count(r => r.Status == status);

    /// <summary>True when no check failed.</summary>
    public bool Passed => Count(DqStatus.Fail) == 0;
}
