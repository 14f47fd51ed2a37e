using Dapper;
using RwePortal.Application.Security;

namespace RwePortal.Application.Audit;

/// <summary>What the audit page filters on. Dates are whole UTC days, both ends included; text filters match parts, ignoring case.</summary>
public sealed record AuditEventFilter(DateOnly? From = null, DateOnly? To = null, string? User = null, string? EventType = null, string? Target = null);

/// <summary>An audit event as the audit page and its export show it.</summary>
public sealed record AuditEventView(
    long Id,
    DateTimeOffset OccurredAt,
    Guid? TenantId,
    string? UserEmail,
    string EventType,
    string? Target,
    string Outcome,
    string Details);

/// <summary>The WHERE clause of the audit page and its export: the filter, and the tenant the reader may see.</summary>
internal static class AuditEventQuery
{
    public const string Columns =
        "id AS Id, occurred_at AS OccurredAt, tenant_id AS TenantId, user_email AS UserEmail, event_type AS EventType, " +
        "target AS Target, outcome AS Outcome, details::text AS Details";

    /// <summary>
    /// A platform Admin sees every event; anyone else only their current tenant's (none without a tenant). Every
    /// value goes in as a parameter; LIKE wildcards typed by the user are matched literally.
    /// </summary>
    public const string Where =
        """
        WHERE (@allTenants OR tenant_id = @tenantId)
          AND (CAST(@from AS timestamptz) IS NULL OR occurred_at >= CAST(@from AS timestamptz))
          AND (CAST(@to AS timestamptz) IS NULL OR occurred_at < CAST(@to AS timestamptz))
          AND (CAST(@user AS text) IS NULL OR user_email ILIKE '%' || CAST(@user AS text) || '%' ESCAPE '\')
          AND (CAST(@eventType AS text) IS NULL OR event_type = CAST(@eventType AS text))
          AND (CAST(@target AS text) IS NULL OR target ILIKE '%' || CAST(@target AS text) || '%' ESCAPE '\')
        """;

    public static DynamicParameters Parameters(AuditEventFilter filter, UserContext reader)
    {
        var parameters = new DynamicParameters();
        parameters.Add("allTenants", reader.IsPlatformAdmin);
        parameters.Add("tenantId", reader.TenantId ?? Guid.Empty);
        parameters.Add("from", StartOf(filter.From));
        parameters.Add("to", StartOf(filter.To?.AddDays(1)));
        parameters.Add("user", Like(filter.User));
        parameters.Add("eventType", string.IsNullOrWhiteSpace(filter.EventType) ? null : filter.EventType.Trim());
        parameters.Add("target", Like(filter.Target));
        return parameters;
    }

    private static DateTimeOffset? StartOf(DateOnly? day) =>
        day is { } d ? new DateTimeOffset(d.ToDateTime(TimeOnly.MinValue), TimeSpan.Zero) : null;

    private static string? Like(string? text) =>
        string.IsNullOrWhiteSpace(text)
            ? null
            : text.Trim().Replace(@"\", @"\\", StringComparison.Ordinal).Replace("%", @"\%", StringComparison.Ordinal).Replace("_", @"\_", StringComparison.Ordinal);
}
