using System.Security.Claims;
using Microsoft.AspNetCore.Identity;
using Npgsql;
using RwePortal.Application.Data;
using RwePortal.Application.Security;

namespace RwePortal.Application.Audit;

/// <summary>Who did it: the tenant they worked in, their user id and email. All null for an anonymous caller.</summary>
public sealed record AuditActor(Guid? TenantId, Guid? UserId, string? Email)
{
    public static AuditActor Anonymous { get; } = new(null, null, null);

    public static AuditActor From(UserContext user) =>
        user.IsAuthenticated ? new AuditActor(user.TenantId, user.UserId, user.Email) : Anonymous;

    /// <summary>An operator or process without a portal account, e.g. the command line (<c>cli:alice</c>).</summary>
    public static AuditActor Service(string name) => new(null, null, name);
}

/// <summary>
/// One event for the trail. <paramref name="Details"/> is stored as a JSON object; keep it small and never put
/// patient-level data in it (ids of people are fine where the event is about one person's consent).
/// </summary>
public sealed record AuditRecord(string EventType, string? Target, string Outcome, IReadOnlyDictionary<string, object?>? Details = null);

/// <summary>
/// Appends events to the tamper-evident audit trail (app.audit_event, docs/audit.md). Every method writes one
/// event and returns once it is committed.
/// </summary>
public interface IAuditTrail
{
    /// <summary>
    /// Records a command's change inside the transaction that makes it, so the change and its event commit or roll
    /// back together. <paramref name="context"/> must have an open transaction. The event is filed under
    /// <paramref name="tenantId"/> when given (a platform Admin acting on a tenant), else the current user's tenant.
    /// </summary>
    Task RecordChangeAsync(AppDbContext context, AuditRecord record, Guid? tenantId = null, CancellationToken cancellationToken = default);

    /// <inheritdoc cref="RecordChangeAsync(AppDbContext, AuditRecord, Guid?, CancellationToken)"/>
    Task RecordChangeAsync(
        NpgsqlConnection connection,
        NpgsqlTransaction transaction,
        AuditRecord record,
        Guid? tenantId = null,
        CancellationToken cancellationToken = default);

    /// <summary>Whether this scope (one request) has recorded a change in its transaction.</summary>
    bool ChangeRecorded { get; }

    /// <summary>Records an event done by the current user.</summary>
    Task RecordAsync(AuditRecord record, CancellationToken cancellationToken = default);

    /// <summary>Records an event done by a named actor (sign-in pages, the command line).</summary>
    Task RecordAsync(AuditActor actor, AuditRecord record, CancellationToken cancellationToken = default);

    /// <summary>Records the outcome of a password sign-in for <paramref name="email"/>: SignIn, SignInFailed or Lockout.</summary>
    Task RecordSignInAsync(string email, SignInResult result, CancellationToken cancellationToken = default);

    /// <summary>Records that the user of <paramref name="principal"/> signed out.</summary>
    Task RecordSignOutAsync(ClaimsPrincipal principal, CancellationToken cancellationToken = default);

    /// <summary>
    /// Records a query the cohort engine ran against the warehouse: the SHA-256 of its SQL text (hex), its
    /// parameters, the rows it returned and how long it took. The SQL itself is not stored.
    /// </summary>
    Task RecordWarehouseQueryAsync(
        string sqlHash,
        IReadOnlyDictionary<string, object?> parameters,
        long rowCount,
        TimeSpan duration,
        CancellationToken cancellationToken = default);
}
