using Microsoft.EntityFrameworkCore;
using RwePortal.Application.Audit;
using RwePortal.Application.Common;
using RwePortal.Application.Data;
using RwePortal.Application.Security;

namespace RwePortal.Application.Features.Subgroups;

/// <summary>
/// Writes a revision of a saved subgroup (a new one, an edit, a duplicate): references resolved as the user sees the
/// library, the current state and an append-only revision in one transaction with its audit event.
/// </summary>
internal static class SubgroupStore
{
    public sealed record Draft(Guid? Id, string Name, string? Description, string Definition, SubgroupVisibility Visibility, VocabularyStamp Vocabulary);

    public static async Task<Result<SaveSubgroup.Response>> SaveAsync(
        AppDbContext db, IAuditTrail audit, UserContext user, Draft draft, string operation, CancellationToken cancellationToken)
    {
        if (user.TenantId is not { } tenantId || db.Scope.TenantId != tenantId)
        {
            return Error.NotFound("Subgroup");
        }

        SavedSubgroup? head = null;
        if (draft.Id is { } id)
        {
            head = await db.SavedSubgroups.VisibleTo(user.UserId).SingleOrDefaultAsync(s => s.Id == id, cancellationToken);
            if (head is null)
            {
                return Error.NotFound("Subgroup");
            }

            if (head.OwnerId != user.UserId)
            {
                return LibraryRecords.NotOwner("Subgroup");
            }
        }

        // A subgroup that shared subgroups use stays shared: making it private would break them for everyone else.
        if (head is { Visibility: SubgroupVisibility.Tenant } && draft.Visibility == SubgroupVisibility.Private
            && await db.SavedSubgroups.AnyAsync(s => s.DeletedAt == null && s.Visibility == SubgroupVisibility.Tenant && s.ReferencedSubgroups.Contains(head.Id), cancellationToken))
        {
            return new Error("Subgroup.Shared", $"'{head.Name}' is used by subgroups shared with the tenant; it stays shared while they use it.");
        }

        var resolved = await SubgroupReferences.ResolveAsync(db, user, draft.Definition, draft.Id, cancellationToken);
        if (!resolved.Succeeded)
        {
            return resolved.Error!;
        }

        var direct = resolved.Value!.Used.Where(u => u.Direct).ToList();
        if (draft.Visibility == SubgroupVisibility.Tenant)
        {
            var privateOnes = direct.Where(u => u.Visibility == SubgroupVisibility.Private).ToList();
            if (privateOnes.Count > 0)
            {
                return Error.Validation(privateOnes.Select(u =>
                    $"{u.Path}: a subgroup shared with the tenant refers only to shared objects, and the {(u.Kind == "subgroup" ? "subgroup" : "concept set")} '{u.Name}' is private; share it first"));
            }
        }

        var now = DateTimeOffset.UtcNow;
        var before = head is null ? null : new { revision = head.Revision, name = head.Name, visibility = head.Visibility.ToString() };
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        if (head is null)
        {
            head = new SavedSubgroup { TenantId = tenantId, OwnerId = user.UserId, CreatedAt = now, Revision = 0 };
            db.SavedSubgroups.Add(head);
        }

        head.Revision++;
        head.Name = draft.Name.Trim();
        head.Description = string.IsNullOrWhiteSpace(draft.Description) ? null : draft.Description.Trim();
        head.Visibility = draft.Visibility;
        head.UpdatedAt = now;
        head.ReferencedSubgroups = direct.Where(u => u.Kind == "subgroup").Select(u => u.Id).Distinct().ToList();
        head.ReferencedConceptSets = direct.Where(u => u.Kind == "conceptSet").Select(u => u.Id).Distinct().ToList();
        db.SavedSubgroupRevisions.Add(new SavedSubgroupRevision
        {
            TenantId = tenantId,
            SubgroupId = head.Id,
            Revision = head.Revision,
            Name = head.Name,
            Description = head.Description,
            Visibility = head.Visibility,
            Definition = draft.Definition,
            VocabularySource = draft.Vocabulary.Source,
            VocabularyVersion = draft.Vocabulary.Version,
            AuthorId = user.UserId,
            SavedAt = now,
        });
        await db.SaveChangesAsync(cancellationToken);
        await audit.RecordChangeAsync(
            db,
            new AuditRecord(AuditEventTypes.Command, $"{operation}: subgroup '{head.Name}' ({head.Id})", AuditOutcomes.Success, new Dictionary<string, object?>
            {
                ["before"] = before,
                ["after"] = new
                {
                    revision = head.Revision,
                    name = head.Name,
                    visibility = head.Visibility.ToString(),
                    vocabulary_source = draft.Vocabulary.Source,
                    vocabulary_version = draft.Vocabulary.Version,
                    references = direct.Select(u => new { kind = u.Kind, id = u.Id, revision = u.Revision }).ToList(),
                },
            }),
            cancellationToken: cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return new SaveSubgroup.Response(head.Id, head.Revision);
    }
}
