using FluentValidation;
using MediatR;
using Microsoft.EntityFrameworkCore;
using RwePortal.Application.Audit;
using RwePortal.Application.Common;
using RwePortal.Application.Data;
using RwePortal.Application.Features.Subgroups;
using RwePortal.Application.Security;
using RwePortal.Warehouse;

namespace RwePortal.Application.Features.ConceptSets;

/// <summary>
/// Saves a concept set in the tenant's library: a new one (no id) owned by the current user, or a new revision of one
/// the user owns. Criteria refer to it (<c>{"conceptSet": "&lt;id&gt;"}</c>) and read its current revision when they
/// are counted, so an edit here changes every subgroup that uses it from its next count on.
/// </summary>
public static class SaveConceptSet
{
    /// <summary>Most items in one concept set (the criteria schema's limit for a concept list).</summary>
    public const int MaxItems = 500;

    [RequiresPermission(Permission.EditSubgroups)]
    public sealed record Command(Guid? Id, string Name, string? Description, IReadOnlyList<ConceptSetItem> Items, SubgroupVisibility Visibility, string? Source = null)
        : IRequest<Result<Response>>, IAuditTarget
    {
        public string AuditTarget => Id is { } id ? $"concept set {id}" : $"new concept set '{Name}'";
    }

    public sealed record Response(Guid Id, int Revision);

    public sealed class Validator : AbstractValidator<Command>
    {
        public Validator()
        {
            RuleFor(c => c.Id).Must(id => id != Guid.Empty).WithMessage("Give the id of a saved concept set, or none for a new one.");
            RuleFor(c => c.Name).NotEmpty().MaximumLength(200).Must(n => !string.IsNullOrWhiteSpace(n)).WithMessage("A concept set needs a name.");
            RuleFor(c => c.Description).MaximumLength(2000);
            RuleFor(c => c.Visibility).IsInEnum();
            RuleFor(c => c.Source).MaximumLength(64);
            RuleFor(c => c.Items).NotNull().Must(items => items is { Count: > 0 and <= MaxItems })
                .WithMessage($"A concept set has 1 to {MaxItems} items.");
            RuleFor(c => c.Items).Must(items => items is null || items.Any(i => !i.Exclude))
                .WithMessage("A concept set needs at least one concept that is not excluded.");
            RuleFor(c => c.Items).Must(items => items is null || items.Select(i => i.ConceptId).Distinct().Count() == items.Count)
                .WithMessage("Each concept appears once in a concept set.");
            RuleForEach(c => c.Items).ChildRules(item => item.RuleFor(i => i.ConceptId).GreaterThan(0).WithMessage("Concept ids are positive."));
        }
    }

    internal sealed class Handler(AppDbContext db, ICurrentUser currentUser, IAuditTrail audit, WarehouseConnections warehouse)
        : IRequestHandler<Command, Result<Response>>
    {
        public async Task<Result<Response>> Handle(Command request, CancellationToken cancellationToken)
        {
            var user = await currentUser.GetAsync(cancellationToken);
            if (user.TenantId is not { } tenantId || db.Scope.TenantId != tenantId)
            {
                return Error.NotFound("ConceptSet");
            }

            SavedConceptSet? head = null;
            if (request.Id is { } id)
            {
                head = await db.SavedConceptSets.VisibleTo(user.UserId).SingleOrDefaultAsync(s => s.Id == id, cancellationToken);
                if (head is null)
                {
                    return Error.NotFound("ConceptSet");
                }

                if (head.OwnerId != user.UserId)
                {
                    return LibraryRecords.NotOwner("ConceptSet");
                }
            }

            // A set that shared subgroups use stays shared: making it private would break them for everyone else.
            if (head is { Visibility: SubgroupVisibility.Tenant } && request.Visibility == SubgroupVisibility.Private
                && await db.SavedSubgroups.AnyAsync(s => s.DeletedAt == null && s.Visibility == SubgroupVisibility.Tenant && s.ReferencedConceptSets.Contains(head.Id), cancellationToken))
            {
                return new Error("ConceptSet.Shared", $"'{head.Name}' is used by subgroups shared with the tenant; it stays shared while they use it.");
            }

            var vocabulary = await LibraryRecords.VocabularyAsync(db, warehouse, request.Source, cancellationToken);
            if (!vocabulary.Succeeded)
            {
                return vocabulary.Error!;
            }

            var now = DateTimeOffset.UtcNow;
            var before = head is null ? null : new { revision = head.Revision, name = head.Name, visibility = head.Visibility.ToString() };
            await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
            if (head is null)
            {
                head = new SavedConceptSet { TenantId = tenantId, OwnerId = user.UserId, CreatedAt = now };
                db.SavedConceptSets.Add(head);
            }

            head.Revision++;
            head.Name = request.Name.Trim();
            head.Description = string.IsNullOrWhiteSpace(request.Description) ? null : request.Description.Trim();
            head.Visibility = request.Visibility;
            head.UpdatedAt = now;
            db.SavedConceptSetRevisions.Add(new SavedConceptSetRevision
            {
                TenantId = tenantId,
                ConceptSetId = head.Id,
                Revision = head.Revision,
                Name = head.Name,
                Description = head.Description,
                Visibility = head.Visibility,
                Items = SubgroupReferences.ItemsToJson(request.Items),
                VocabularySource = vocabulary.Value!.Source,
                VocabularyVersion = vocabulary.Value.Version,
                AuthorId = user.UserId,
                SavedAt = now,
            });
            await db.SaveChangesAsync(cancellationToken);
            await audit.RecordChangeAsync(
                db,
                new AuditRecord(AuditEventTypes.Command, $"SaveConceptSet: concept set '{head.Name}' ({head.Id})", AuditOutcomes.Success, new Dictionary<string, object?>
                {
                    ["before"] = before,
                    ["after"] = new
                    {
                        revision = head.Revision,
                        name = head.Name,
                        visibility = head.Visibility.ToString(),
                        items = request.Items.Count,
                        vocabulary_version = vocabulary.Value.Version,
                    },
                }),
                cancellationToken: cancellationToken);
            await transaction.CommitAsync(cancellationToken);
            return new Response(head.Id, head.Revision);
        }
    }
}
