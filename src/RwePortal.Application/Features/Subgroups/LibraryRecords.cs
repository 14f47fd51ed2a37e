using System.Linq.Expressions;
using Dapper;
using Microsoft.EntityFrameworkCore;
using Npgsql;
using RwePortal.Application.Audit;
using RwePortal.Application.Common;
using RwePortal.Application.Data;
using RwePortal.Warehouse;
using RwePortal.Warehouse.Schema;

namespace RwePortal.Application.Features.Subgroups;

/// <summary>The vocabulary a revision was built on: the source named (or null) and its version text.</summary>
public sealed record VocabularyStamp(string? Source, string Version)
{
    /// <summary>What a revision records when no source was named and the tenant has several (or none).</summary>
    public const string NotRecorded = "not recorded (no source named)";

    /// <summary>What a revision records when the source's vocabulary carries no version.</summary>
    public const string Unknown = "unknown";
}

/// <summary>What the library slices (subgroups and concept sets) share: people's names and the vocabulary stamp.</summary>
internal static class LibraryRecords
{
    /// <summary>
    /// The vocabulary version of <paramref name="source"/> (granted to the tenant), as the warehouse reader reads it:
    /// the <c>vocabulary_version</c> of vocabulary_id 'None' (the OMOP release of the whole vocabulary), else the
    /// source's <c>cdm_source.vocabulary_version</c>, else <see cref="VocabularyStamp.Unknown"/>. Without a source
    /// named, the tenant's only granted source; with several, <see cref="VocabularyStamp.NotRecorded"/>.
    /// </summary>
    public static async Task<Result<VocabularyStamp>> VocabularyAsync(AppDbContext db, WarehouseConnections warehouse, string? source, CancellationToken cancellationToken)
    {
        var granted = await db.DataSourceGrants.AsNoTracking()
            .Join(db.DataSources, g => g.DataSourceId, s => s.Id, (g, s) => new { s.Name, s.SchemaName })
            .Where(s => source == null || s.Name == source)
            .ToListAsync(cancellationToken);
        if (source is not null && granted.Count == 0)
        {
            return Error.NotFound("DataSource");
        }

        if (granted.Count != 1)
        {
            return new VocabularyStamp(null, VocabularyStamp.NotRecorded);
        }

        var schema = "\"" + SchemaName.Validate(granted[0].SchemaName) + "\"";
        await using var connection = await warehouse.OpenAsync(cancellationToken);
        try
        {
            var version = await connection.QuerySingleOrDefaultAsync<string?>(new CommandDefinition(
                $"""
                SELECT coalesce(
                    (SELECT nullif(btrim(v.vocabulary_version), '') FROM {schema}.vocabulary v WHERE v.vocabulary_id = 'None'),
                    (SELECT nullif(btrim(c.vocabulary_version), '') FROM {schema}.cdm_source c ORDER BY c.source_release_date DESC NULLS LAST LIMIT 1))
                """,
                commandTimeout: WarehouseConnections.CommandTimeoutSeconds,
                cancellationToken: cancellationToken));
            return new VocabularyStamp(granted[0].Name, version ?? VocabularyStamp.Unknown);
        }
        catch (PostgresException e) when (e.SqlState is PostgresErrorCodes.UndefinedTable or PostgresErrorCodes.InvalidSchemaName)
        {
            // A registered source not loaded yet has no vocabulary to name.
            return new VocabularyStamp(granted[0].Name, VocabularyStamp.Unknown);
        }
    }

    /// <summary>The names people are shown by (display name, else email) of <paramref name="userIds"/>.</summary>
    public static async Task<Dictionary<Guid, string>> NamesAsync(AppDbContext db, IEnumerable<Guid> userIds, CancellationToken cancellationToken)
    {
        var ids = userIds.Distinct().ToList();
        var users = await db.Users.AsNoTracking().Where(u => ids.Contains(u.Id)).Select(u => new { u.Id, u.DisplayName, u.Email }).ToListAsync(cancellationToken);
        return users.ToDictionary(u => u.Id, u => string.IsNullOrWhiteSpace(u.DisplayName) ? u.Email ?? u.Id.ToString() : u.DisplayName);
    }

    public static string NameOf(Dictionary<Guid, string> names, Guid userId) => names.TryGetValue(userId, out var name) ? name : "former member";

    /// <summary>The refusal when a user who can see a library object is not its owner.</summary>
    public static Error NotOwner(string what) =>
        new($"{what}.NotOwner", $"Only the owner of a saved {Label(what)} changes or deletes it; duplicate it to make your own.");

    /// <summary>
    /// Deletes the user's own library object <paramref name="id"/> (a subgroup or a concept set; <paramref name="what"/>
    /// is "Subgroup" or "ConceptSet"): refused when the user cannot see it (not found), does not own it, or any saved
    /// subgroup of the tenant still refers to it (<paramref name="refersToIt"/>; private ones of other users included,
    /// only the names the user can see are named). The row is marked deleted; its revisions stay for the audit trail.
    /// </summary>
    public static async Task<Result<Guid>> DeleteAsync<T>(
        AppDbContext db,
        IAuditTrail audit,
        Guid userId,
        Guid id,
        string what,
        Expression<Func<SavedSubgroup, bool>> refersToIt,
        CancellationToken cancellationToken)
        where T : class, ILibraryObject
    {
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        var head = await db.Set<T>().VisibleTo(userId).SingleOrDefaultAsync(s => s.Id == id, cancellationToken);
        if (head is null)
        {
            return Error.NotFound(what);
        }

        if (head.OwnerId != userId)
        {
            return NotOwner(what);
        }

        var users = await db.SavedSubgroups.AsNoTracking()
            .Where(s => s.DeletedAt == null)
            .Where(refersToIt)
            .Select(s => new { s.Name, Visible = s.OwnerId == userId || s.Visibility == SubgroupVisibility.Tenant })
            .ToListAsync(cancellationToken);
        if (users.Count > 0)
        {
            return Referenced(what, head.Name, users.Count, users.Where(u => u.Visible).Select(u => u.Name));
        }

        head.DeletedAt = DateTimeOffset.UtcNow;
        await db.SaveChangesAsync(cancellationToken);
        await audit.RecordChangeAsync(
            db,
            new AuditRecord(AuditEventTypes.Command, $"Delete{what}: {Label(what)} '{head.Name}' ({head.Id})", AuditOutcomes.Success, new Dictionary<string, object?>
            {
                ["before"] = new { revision = head.Revision, name = head.Name, visibility = head.Visibility.ToString() },
                ["after"] = new { deleted = true },
            }),
            cancellationToken: cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return head.Id;
    }

    private static string Label(string what) => what == "Subgroup" ? "subgroup" : "concept set";

    /// <summary>The refusal to delete an object other saved subgroups still refer to (naming only those the user can see).</summary>
    public static Error Referenced(string what, string name, int count, IEnumerable<string> visibleNames)
    {
        var named = visibleNames.Select(n => $"'{n}'").ToList();
        var which = named.Count == count ? string.Join(", ", named)
            : named.Count == 0 ? $"{count} saved subgroup(s) you cannot see"
            : $"{string.Join(", ", named)} and {count - named.Count} you cannot see";
        return new Error($"{what}.Referenced", $"'{name}' is used by {count} saved subgroup(s) ({which}); remove it from them first.");
    }
}
