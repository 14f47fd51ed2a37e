using System.Text.Json;
using Dapper;
using Npgsql;

namespace RwePortal.Application.Audit;

/// <summary>
/// Appends one event through app.append_audit_event (db/app/audit.sql), which serialises appends and computes the
/// hash. On a connection with an open transaction the event commits or rolls back with the caller's work.
/// </summary>
internal static class AuditLog
{
    private const int MaxTextLength = 1000;

    public static async Task<long> AppendAsync(
        NpgsqlConnection connection,
        NpgsqlTransaction? transaction,
        AuditActor actor,
        AuditRecord record,
        CancellationToken cancellationToken)
    {
        var details = JsonSerializer.Serialize(record.Details ?? new Dictionary<string, object?>());
        return await connection.ExecuteScalarAsync<long>(new CommandDefinition(
            """
            SELECT app.append_audit_event(@tenantId, @userId, @email, @eventType, @target, @outcome, CAST(@details AS jsonb))
            """,
            new
            {
                tenantId = actor.TenantId,
                userId = actor.UserId,
                email = Clip(actor.Email),
                eventType = record.EventType,
                target = Clip(record.Target),
                outcome = Clip(record.Outcome),
                details,
            },
            transaction,
            AppSqlConnections.CommandTimeoutSeconds,
            cancellationToken: cancellationToken));
    }

    private static string? Clip(string? text) => text is { Length: > MaxTextLength } ? text[..MaxTextLength] : text;
}
