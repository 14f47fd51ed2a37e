using FluentValidation;
using MediatR;
using Microsoft.EntityFrameworkCore;
using RwePortal.Application.Audit;
using RwePortal.Application.Common;
using RwePortal.Application.Data;
using RwePortal.Application.Security;

namespace RwePortal.Application.Features.Subgroups;

/// <summary>
/// Deletes a saved subgroup of the current user: it leaves every list and no longer resolves as a reference; its
/// revisions stay for the audit trail. Refused while another saved subgroup of the tenant refers to it.
/// </summary>
public static class DeleteSubgroup
{
    [RequiresPermission(Permission.EditSubgroups)]
    public sealed record Command(Guid Id) : IRequest<Result<Response>>, IAuditTarget
    {
        public string AuditTarget => $"subgroup {Id}";
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
            var head = await db.SavedSubgroups.VisibleTo(user.UserId).SingleOrDefaultAsync(s => s.Id == request.Id, cancellationToken);
            if (head is null)
            {
                return Error.NotFound("Subgroup");
            }

            if (head.OwnerId != user.UserId)
            {
                return LibraryRecords.NotOwner("Subgroup");
            }

            // Every user's subgroups count, private ones included; only the names the user can see are named.
            var users = await db.SavedSubgroups.AsNoTracking()
                .Where(s => s.DeletedAt == null && s.ReferencedSubgroups.Contains(head.Id))
                .Select(s => new { s.Name, Visible = s.OwnerId == user.UserId || s.Visibility == SubgroupVisibility.Tenant })
                .ToListAsync(cancellationToken);
            if (users.Count > 0)
            {
                return LibraryRecords.Referenced("Subgroup", head.Name, users.Count, users.Where(u => u.Visible).Select(u => u.Name));
            }

            head.DeletedAt = DateTimeOffset.UtcNow;
            await db.SaveChangesAsync(cancellationToken);
            await audit.RecordChangeAsync(
                db,
                new AuditRecord(AuditEventTypes.Command, $"DeleteSubgroup: subgroup '{head.Name}' ({head.Id})", AuditOutcomes.Success, new Dictionary<string, object?>
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
