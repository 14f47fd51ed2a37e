using System.Data.Common;
using Dapper;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;
using RwePortal.Application.Data;

namespace RwePortal.Application.Jobs;

/// <summary>One row of app.analysis_runs as the slices and the worker read it (through row-level security).</summary>
internal sealed class AnalysisRunRow
{
    public Guid Id { get; set; }

    public Guid TenantId { get; set; }

    public Guid ProtocolId { get; set; }

    public Guid ProtocolVersionId { get; set; }

    public int ProtocolVersion { get; set; }

    public string ProtocolHash { get; set; } = "";

    public string ProtocolTitle { get; set; } = "";

    public Guid DataSourceId { get; set; }

    public string Source { get; set; } = "";

    public string Purpose { get; set; } = "";

    public int Seed { get; set; }

    public Guid RequestedBy { get; set; }

    public string? RequestedByName { get; set; }

    public string Status { get; set; } = "";

    public string? Step { get; set; }

    public string? Message { get; set; }

    public double? Fraction { get; set; }

    public string StepTimings { get; set; } = "[]";

    public int Attempt { get; set; }

    public string? ErrorCode { get; set; }

    public string? ErrorMessage { get; set; }

    public bool CancelRequested { get; set; }

    public DateTime CreatedAt { get; set; }

    public DateTime? StartedAt { get; set; }

    public DateTime? FinishedAt { get; set; }

    public string? Result { get; set; }

    public string? Reproducibility { get; set; }

    public double? HazardRatio { get; set; }

    public double? HazardRatioLower { get; set; }

    public double? HazardRatioUpper { get; set; }

    public RunError? Error => ErrorCode is null ? null : new RunError(ErrorCode, ErrorMessage ?? "");

    public IReadOnlyList<RunStepTiming> Timings => AnalysisRunJson.Deserialize<List<RunStepTiming>>(StepTimings) ?? [];

    public RunReproducibility ReproducibilityRecord()
    {
        var facts = AnalysisRunJson.Deserialize<StoredRunFacts>(Reproducibility);
        return new RunReproducibility(
            ProtocolVersion,
            ProtocolHash,
            Source,
            Purpose,
            Seed,
            facts?.SourceLoadedAt,
            facts?.ConsentAsOf,
            facts?.RemovedByConsent,
            facts?.CodeVersion,
            facts?.PackageVersions ?? new Dictionary<string, string>());
    }

    public static DateTimeOffset Utc(DateTime value) => new(DateTime.SpecifyKind(value, DateTimeKind.Utc));

    public static DateTimeOffset? Utc(DateTime? value) => value is { } v ? Utc(v) : null;
}

/// <summary>SQL over app.analysis_runs, on the connection of a tenant-bound <see cref="AppDbContext"/> (RLS on).</summary>
internal static class AnalysisRunStore
{
    public const int CommandTimeoutSeconds = 30;

    /// <summary>The columns of <see cref="AnalysisRunRow"/>; <c>r</c> is the run, the requester's name comes from Identity.</summary>
    public const string Columns = """
        r.id AS Id, r.tenant_id AS TenantId, r.protocol_id AS ProtocolId, r.protocol_version_id AS ProtocolVersionId,
        r.protocol_version AS ProtocolVersion, r.protocol_hash AS ProtocolHash, r.protocol_title AS ProtocolTitle,
        r.data_source_id AS DataSourceId, r.source AS Source, r.purpose AS Purpose, r.seed AS Seed, r.requested_by AS RequestedBy,
        coalesce(nullif(u.display_name, ''), u.email, r.requested_by::text) AS RequestedByName,
        r.status AS Status, r.step AS Step, r.message AS Message, r.fraction AS Fraction, r.step_timings::text AS StepTimings,
        r.attempt AS Attempt, r.error_code AS ErrorCode, r.error_message AS ErrorMessage, r.cancel_requested AS CancelRequested,
        r.created_at AS CreatedAt, r.started_at AS StartedAt, r.finished_at AS FinishedAt, r.result::text AS Result,
        r.reproducibility::text AS Reproducibility, r.hazard_ratio AS HazardRatio, r.hazard_ratio_lower AS HazardRatioLower,
        r.hazard_ratio_upper AS HazardRatioUpper
        """;


    public const string From = """
        app.analysis_runs r LEFT JOIN app."AspNetUsers" u ON u.id = r.requested_by
        """;

    public static async Task<DbConnection> ConnectionAsync(AppDbContext db, CancellationToken cancellationToken)
    {
        await db.Database.OpenConnectionAsync(cancellationToken);
        return db.Database.GetDbConnection();
    }

    public static DbTransaction? Transaction(AppDbContext db) => db.Database.CurrentTransaction?.GetDbTransaction();

    public static CommandDefinition Command(AppDbContext db, string sql, object? parameters, CancellationToken cancellationToken) =>
        new(sql, parameters, Transaction(db), CommandTimeoutSeconds, cancellationToken: cancellationToken);

    /// <summary>The run as the context's tenant sees it (null for another tenant's run or none).</summary>
    public static async Task<AnalysisRunRow?> FindAsync(AppDbContext db, Guid runId, CancellationToken cancellationToken, bool withResult = true)
    {
        var connection = await ConnectionAsync(db, cancellationToken);
        var columns = withResult ? Columns : Columns.Replace("r.result::text AS Result", "NULL::text AS Result", StringComparison.Ordinal);
        return await connection.QuerySingleOrDefaultAsync<AnalysisRunRow>(Command(
            db, $"SELECT {columns} FROM {From} WHERE r.id = @runId", new { runId }, cancellationToken));
    }
}
