using System.Security.Claims;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;
using Npgsql;
using RwePortal.Application.Data;
using RwePortal.Application.Security;

namespace RwePortal.Application.Audit;

/// <summary>
/// The portal's <see cref="IAuditTrail"/>, as the app role: a change's event in the transaction of the change, any
/// other event in a transaction of its own. Scoped: one per request.
/// </summary>
internal sealed class AuditTrail(AppSqlConnections connections, ICurrentUser currentUser, IDbContextFactory<AppDbContext> contexts)
    : IAuditTrail
{
    public bool ChangeRecorded { get; private set; }

    public async Task RecordChangeAsync(AppDbContext context, AuditRecord record, Guid? tenantId = null, CancellationToken cancellationToken = default)
    {
        var transaction = context.Database.CurrentTransaction
            ?? throw new InvalidOperationException("A change is audited inside its transaction: begin one first.");
        await RecordChangeAsync(
            (NpgsqlConnection)context.Database.GetDbConnection(),
            (NpgsqlTransaction)transaction.GetDbTransaction(),
            record,
            tenantId,
            cancellationToken);
    }

    public async Task RecordChangeAsync(
        NpgsqlConnection connection,
        NpgsqlTransaction transaction,
        AuditRecord record,
        Guid? tenantId = null,
        CancellationToken cancellationToken = default)
    {
        var actor = AuditActor.From(await currentUser.GetAsync(cancellationToken));
        if (tenantId is not null)
        {
            actor = actor with { TenantId = tenantId };
        }

        await AuditLog.AppendAsync(connection, transaction, actor, record, cancellationToken);
        ChangeRecorded = true;
    }

    public async Task RecordAsync(AuditRecord record, CancellationToken cancellationToken = default) =>
        await RecordAsync(AuditActor.From(await currentUser.GetAsync(cancellationToken)), record, cancellationToken);

    public async Task RecordAsync(AuditActor actor, AuditRecord record, CancellationToken cancellationToken = default)
    {
        await using var connection = await connections.OpenAsync(cancellationToken);
        await AuditLog.AppendAsync(connection, null, actor, record, cancellationToken);
    }

    public async Task RecordSignInAsync(string email, SignInResult result, CancellationToken cancellationToken = default)
    {
        var (eventType, outcome) = result switch
        {
            { Succeeded: true } => (AuditEventTypes.SignIn, AuditOutcomes.Success),
            { RequiresTwoFactor: true } => (AuditEventTypes.SignIn, "SecondFactorRequired"),
            { IsLockedOut: true } => (AuditEventTypes.Lockout, "LockedOut"),
            { IsNotAllowed: true } => (AuditEventTypes.SignInFailed, "NotAllowed"),
            _ => (AuditEventTypes.SignInFailed, "InvalidCredentials"),
        };

        // The account, when the email names one, so that its tenant's admins see the attempt.
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        var normalized = email.Trim().ToUpperInvariant();
        var user = await db.Users.AsNoTracking()
            .Where(u => u.NormalizedEmail == normalized)
            .Select(u => new { u.Id, u.CurrentTenantId })
            .FirstOrDefaultAsync(cancellationToken);
        var actor = new AuditActor(user?.CurrentTenantId, user?.Id, email.Trim());
        await RecordAsync(actor, new AuditRecord(eventType, "account", outcome), cancellationToken);
    }

    public async Task RecordSignOutAsync(ClaimsPrincipal principal, CancellationToken cancellationToken = default)
    {
        var user = UserContextClaims.FromPrincipal(principal);
        if (user.IsAuthenticated)
        {
            await RecordAsync(AuditActor.From(user), new AuditRecord(AuditEventTypes.SignOut, "account", AuditOutcomes.Success), cancellationToken);
        }
    }

    public async Task RecordWarehouseQueryAsync(
        string sqlHash,
        IReadOnlyDictionary<string, object?> parameters,
        long rowCount,
        TimeSpan duration,
        CancellationToken cancellationToken = default)
    {
        var details = new Dictionary<string, object?>
        {
            ["sql_sha256"] = sqlHash,
            ["parameters"] = parameters,
            ["rows"] = rowCount,
            ["duration_ms"] = Math.Round(duration.TotalMilliseconds, 1),
        };
        await RecordAsync(new AuditRecord(AuditEventTypes.WarehouseQuery, sqlHash, AuditOutcomes.Success, details), cancellationToken);
    }
}
