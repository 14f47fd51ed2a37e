using FluentValidation;
using MediatR;
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
            var deleted = await LibraryRecords.DeleteAsync<SavedSubgroup>(
                db, audit, user.UserId, request.Id, "Subgroup", s => s.ReferencedSubgroups.Contains(request.Id), cancellationToken);
            return deleted.Succeeded ? new Response(deleted.Value) : deleted.Error!;
        }
    }
}
