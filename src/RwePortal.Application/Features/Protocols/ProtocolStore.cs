using Microsoft.EntityFrameworkCore;
using RwePortal.Application.Common;
using RwePortal.Application.Data;
using RwePortal.Application.Security;

namespace RwePortal.Application.Features.Protocols;

/// <summary>What the protocol slices share: look-ups in the current tenant, the per-protocol lock, authors, names, errors.</summary>
internal static class ProtocolStore
{
    /// <summary>Another tenant's protocol, a deleted one and one that never existed all answer this.</summary>
    public static Error NotFound() => Error.NotFound("Protocol");

    public static Error Locked(ProtocolVersion version) =>
        new("Protocol.Locked", $"Version {version.Version} is {Describe(version.State)} and locked; amend it to make a new version.");

    public static Error InReview(ProtocolVersion version) =>
        new("Protocol.InReview", $"Version {version.Version} is in review; its content is fixed until a reviewer approves or rejects it.");

    public static Error NotInReview(ProtocolVersion version) =>
        new("Protocol.NotInReview", $"Version {version.Version} is {Describe(version.State)}, not in review.");

    public static Error AuthorCannotReview() =>
        new("Protocol.AuthorCannotReview", "You authored this version, so you cannot approve or reject it: another study lead or a tenant administrator reviews it.");

    /// <summary>The tenant the request works in, when the context is bound to it.</summary>
    public static bool TryTenant(AppDbContext db, UserContext user, out Guid tenantId)
    {
        tenantId = user.TenantId ?? Guid.Empty;
        return user.TenantId is not null && db.Scope.TenantId == user.TenantId;
    }

    /// <summary>
    /// Locks the protocol's row for the rest of the transaction (one state change of a protocol at a time) and loads
    /// it; null when the current tenant has no such protocol (row-level security hides other tenants' rows).
    /// </summary>
    public static async Task<Protocol?> LockAsync(AppDbContext db, Guid protocolId, CancellationToken cancellationToken)
    {
        await db.Database.ExecuteSqlAsync($"SELECT 1 FROM app.protocols WHERE id = {protocolId} FOR UPDATE", cancellationToken);
        return await db.Protocols.SingleOrDefaultAsync(p => p.Id == protocolId, cancellationToken);
    }

    public static Task<ProtocolVersion?> VersionAsync(AppDbContext db, Guid protocolId, int version, CancellationToken cancellationToken) =>
        db.ProtocolVersions.SingleOrDefaultAsync(v => v.ProtocolId == protocolId && v.Version == version, cancellationToken);

    /// <summary>Who authored a version (never its reviewer): its creator, every revision's author and its submitter.</summary>
    public static async Task<HashSet<Guid>> AuthorsAsync(AppDbContext db, ProtocolVersion version, CancellationToken cancellationToken)
    {
        var authors = await db.ProtocolRevisions.Where(r => r.VersionId == version.Id).Select(r => r.AuthorId).Distinct().ToListAsync(cancellationToken);
        authors.Add(version.CreatedBy);
        if (version.SubmittedBy is { } submitter)
        {
            authors.Add(submitter);
        }

        return authors.ToHashSet();
    }

    /// <summary>The name a person is shown and signs by: their full name, else their email.</summary>
    public static async Task<Dictionary<Guid, string>> NamesAsync(AppDbContext db, IEnumerable<Guid> userIds, CancellationToken cancellationToken)
    {
        var ids = userIds.Distinct().ToList();
        var users = await db.Users.AsNoTracking().Where(u => ids.Contains(u.Id)).Select(u => new { u.Id, u.DisplayName, u.Email }).ToListAsync(cancellationToken);
        return users.ToDictionary(u => u.Id, u => string.IsNullOrWhiteSpace(u.DisplayName) ? u.Email ?? u.Id.ToString() : u.DisplayName);
    }

    public static string NameOf(Dictionary<Guid, string> names, Guid userId) => names.TryGetValue(userId, out var name) ? name : "former member";

    public static string AuditTarget(Protocol protocol, int? version = null) =>
        version is { } v ? $"protocol '{protocol.Title}' ({protocol.Id}) v{v}" : $"protocol '{protocol.Title}' ({protocol.Id})";

    /// <summary>A revision of a draft: the version's new content and the append-only record of it.</summary>
    public static ProtocolRevision Revise(ProtocolVersion version, string document, Guid authorId, DateTimeOffset now)
    {
        version.Revision++;
        version.Document = document;
        version.UpdatedAt = now;
        return new ProtocolRevision
        {
            TenantId = version.TenantId,
            VersionId = version.Id,
            Revision = version.Revision,
            Document = document,
            AuthorId = authorId,
            SavedAt = now,
        };
    }

    private static string Describe(ProtocolVersionState state) => state switch
    {
        ProtocolVersionState.InReview => "in review",
        _ => state.ToString().ToLowerInvariant(),
    };
}
