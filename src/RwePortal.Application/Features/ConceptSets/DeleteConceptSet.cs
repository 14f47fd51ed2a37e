using FluentValidation;
using MediatR;
using Microsoft.EntityFrameworkCore;
using RwePortal.Application.Audit;
using RwePortal.Application.Common;
using RwePortal.Application.Data;
using RwePortal.Application.Features.Subgroups;
using RwePortal.Application.Security;

namespace RwePortal.Application.Features.ConceptSets;

/// <summary>
/// Deletes a concept set of the current user (its revisions stay for the audit trail). Refused while a saved subgroup
/// of the tenant refers to it: those subgroups would stop counting.
/// </summary>
public static class DeleteConceptSet
{
    [RequiresPermission(Permission.EditSubgroups)]
    public sealed record Command(Guid Id) : IRequest<Result<Response>>, IAuditTarget
    {
        public string AuditTarget => $"concept set {Id}";
    }

    public sealed record Response(Guid Id);

    public sealed class Validator : AbstractValidator<Command>
    {
        public Validator() => RuleFor(c => c.Id).NotEmpty();
    }

    internal sealed class Handler(AppDbContext db, ICurrentUser currentUser, IAuditTrail audit) : IRequestHandler<Command, Result<Response>>
    {
        public async Task<Result<Response>> Handle(Command request, CancellationToken cancellationToken)
        {
            var user = await currentUser.GetAsync(cancellationToken);
            await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
            var head = await db.SavedConceptSets.VisibleTo(user.UserId).SingleOrDefaultAsync(s => s.Id == request.Id, cancellationToken);
            if (head is null)
            {
                return Error.NotFound("ConceptSet");
            }

            if (head.OwnerId != user.UserId)
            {
                return LibraryRecords.NotOwner("ConceptSet");
            }

            var users = await db.SavedSubgroups.AsNoTracking()
                .Where(s => s.DeletedAt == null && s.ReferencedConceptSets.Contains(head.Id))
                .Select(s => new { s.Name, Visible = s.OwnerId == user.UserId || s.Visibility == SubgroupVisibility.Tenant })
                .ToListAsync(cancellationToken);
            if (users.Count > 0)
            {
                return LibraryRecords.Referenced("ConceptSet", head.Name, users.Count, users.Where(u => u.Visible).Select(u => u.Name));
            }

            head.DeletedAt = DateTimeOffset.UtcNow;
            await db.SaveChangesAsync(cancellationToken);
            await audit.RecordChangeAsync(
                db,
                new AuditRecord(AuditEventTypes.Command, $"DeleteConceptSet: concept set '{head.Name}' ({head.Id})", AuditOutcomes.Success, new Dictionary<string, object?>
                {
                    ["before"] = new { revision = head.Revision, name = head.Name, visibility = head.Visibility.ToString() },
                    ["after"] = new { deleted = true },
                }),
                cancellationToken: cancellationToken);
            await transaction.CommitAsync(cancellationToken);
            return new Response(head.Id);
        }
    }
}
