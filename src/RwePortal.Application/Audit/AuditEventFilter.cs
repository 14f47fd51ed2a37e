using System.Data;
using Dapper;
using Npgsql;
using RwePortal.Application.Security;

namespace RwePortal.Application.Audit;

/// <summary>What the audit page filters on. Dates are whole UTC days, both ends included; text filters match parts, ignoring case.</summary>
public sealed record AuditEventFilter(DateOnly? From = null, DateOnly? To = null, string? User = null, string? EventType = null, string? Target = null);

/// <summary>An audit event as the audit page and its export show it, with the name of its tenant (null without one).</summary>
public sealed record AuditEventView(
    long Id,
    DateTimeOffset OccurredAt,
    Guid? TenantId,
    string? UserEmail,
    string EventType,
    string? Target,
    string Outcome,
    string Details,
    string? TenantName = null);

/// <summary>
/// Reads the audit trail for the page and its export, as the portal's role. The filter lives in SQL
/// (app.find_audit_events and app.count_audit_events in db/app/audit.sql). A TenantAdmin reads the table under
/// row-level security, with the session bound to their current tenant (and the tenant passed as a filter as well);
/// only a platform Admin goes through the SECURITY DEFINER functions that read across tenants.
/// </summary>
internal sealed class AuditEventReader : IAsyncDisposable
{
    private const string Columns =
        "id AS Id, occurred_at AS OccurredAt, tenant_id AS TenantId, user_email AS UserEmail, event_type AS EventType, " +
        "target AS Target, outcome AS Outcome, details AS Details";

    /// <summary>Only the platform Admin's function names tenants; a TenantAdmin's events are all of their own tenant.</summary>
    private const string AllTenantsColumns = Columns + ", tenant_name AS TenantName";

    private const string Filter = "@from, @to, @user, @eventType, @target";

    private readonly NpgsqlConnection _connection;
    private readonly NpgsqlTransaction _transaction;
    private readonly UserContext _reader;

    private AuditEventReader(NpgsqlConnection connection, NpgsqlTransaction transaction, UserContext reader)
    {
        _connection = connection;
        _transaction = transaction;
        _reader = reader;
    }

    /// <summary>
    /// Opens a read-only snapshot (the count and the page agree) bound to the reader's current tenant: the setting is
    /// local to the transaction, so nothing of it stays on the pooled connection.
    /// </summary>
    public static async Task<AuditEventReader> OpenAsync(AppSqlConnections connections, UserContext reader, CancellationToken cancellationToken)
    {
        var connection = await connections.OpenAsync(cancellationToken);
        try
        {
            var transaction = await connection.BeginTransactionAsync(IsolationLevel.RepeatableRead, cancellationToken);
            await connection.ExecuteAsync(new CommandDefinition(
                "SET TRANSACTION READ ONLY; SELECT set_config('rwe.tenant_id', @tenant, true)",
                new { tenant = reader.TenantId?.ToString("D") ?? "" },
                transaction,
                AppSqlConnections.CommandTimeoutSeconds,
                cancellationToken: cancellationToken));
            return new AuditEventReader(connection, transaction, reader);
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }

    /// <summary>How many events match the filter.</summary>
    public Task<long> CountAsync(AuditEventFilter filter, CancellationToken cancellationToken) =>
        _connection.ExecuteScalarAsync<long>(new CommandDefinition(
            _reader.IsPlatformAdmin
                ? $"SELECT app.count_audit_events_all_tenants({Filter})"
                : $"SELECT app.count_audit_events(@tenantId, {Filter})",
            Parameters(filter),
            _transaction,
            AppSqlConnections.CommandTimeoutSeconds,
            cancellationToken: cancellationToken));

    /// <summary>The matching events, newest first, skipping <paramref name="offset"/> and taking at most <paramref name="limit"/>.</summary>
    public async Task<IReadOnlyList<AuditEventView>> FindAsync(
        AuditEventFilter filter, int limit, long offset, int timeoutSeconds, CancellationToken cancellationToken)
    {
        var parameters = Parameters(filter);
        parameters.Add("limit", limit);
        parameters.Add("offset", offset);
        parameters.Add("tenantName", _reader.TenantName, DbType.String);
        var rows = await _connection.QueryAsync<Row>(new CommandDefinition(
            _reader.IsPlatformAdmin
                ? $"SELECT {AllTenantsColumns} FROM app.find_audit_events_all_tenants({Filter}, @limit, @offset)"
                : $"SELECT {Columns}, CAST(@tenantName AS text) AS TenantName FROM app.find_audit_events(@tenantId, {Filter}, @limit, @offset)",
            parameters,
            _transaction,
            timeoutSeconds,
            cancellationToken: cancellationToken));
        return rows.Select(r => r.ToView()).ToList();
    }

    public async ValueTask DisposeAsync()
    {
        await _transaction.DisposeAsync();
        await _connection.DisposeAsync();
    }

    /// <summary>
    /// Every value as a parameter; the functions match the text filters as parts and take LIKE wildcards literally.
    /// A reader without a tenant filters on an id no tenant has, so the tenant filter never widens to "all".
    /// </summary>
    private DynamicParameters Parameters(AuditEventFilter filter)
    {
        var parameters = new DynamicParameters();
        parameters.Add("tenantId", _reader.TenantId ?? Guid.Empty);
        parameters.Add("from", StartOf(filter.From), DbType.DateTimeOffset);
        parameters.Add("to", StartOf(filter.To?.AddDays(1)), DbType.DateTimeOffset);
        parameters.Add("user", Text(filter.User), DbType.String);
        parameters.Add("eventType", Text(filter.EventType), DbType.String);
        parameters.Add("target", Text(filter.Target), DbType.String);
        return parameters;
    }

    private static DateTimeOffset? StartOf(DateOnly? day) =>
        day is { } d ? new DateTimeOffset(d.ToDateTime(TimeOnly.MinValue), TimeSpan.Zero) : null;

    private static string? Text(string? text) => string.IsNullOrWhiteSpace(text) ? null : text.Trim();

    private sealed record Row(
        long Id, DateTime OccurredAt, Guid? TenantId, string? UserEmail, string EventType, string? Target, string Outcome, string Details, string? TenantName)
    {
        public AuditEventView ToView() =>
            new(Id, new DateTimeOffset(DateTime.SpecifyKind(OccurredAt, DateTimeKind.Utc)), TenantId, UserEmail, EventType, Target, Outcome, Details, TenantName);
    }
}
