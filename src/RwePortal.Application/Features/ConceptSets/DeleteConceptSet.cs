using FluentValidation;
using MediatR;
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
            var deleted = await LibraryRecords.DeleteAsync<SavedConceptSet>(
                db, audit, user.UserId, request.Id, "ConceptSet", s => s.ReferencedConceptSets.Contains(request.Id), cancellationToken);
            return deleted.Succeeded ? new Response(deleted.Value) : deleted.Error!;
        }
    }
}
