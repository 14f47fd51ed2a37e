using FluentValidation;
using MediatR;
using Microsoft.EntityFrameworkCore;
using RwePortal.Application.Audit;
using RwePortal.Application.Common;
using RwePortal.Application.Data;
using RwePortal.Application.Security;

namespace RwePortal.Application.Features.Subgroups;

/// <summary>
/// Copies a saved subgroup the user can see (their own or one shared with the tenant) into a new private subgroup of
/// theirs, from its current revision, keeping the vocabulary version that revision was built on. Library references
/// stay references (the copy follows the same concept sets).
/// </summary>
public static class DuplicateSubgroup
{
    [RequiresPermission(Permission.EditSubgroups)]
    public sealed record Command(Guid Id, string Name) : IRequest<Result<SaveSubgroup.Response>>, IAuditTarget
    {
        public string AuditTarget => $"subgroup {Id}";
    }

    public sealed class Validator : AbstractValidator<Command>
    {
        public Validator()
        {
            RuleFor(c => c.Id).NotEmpty();
            RuleFor(c => c.Name).NotEmpty().MaximumLength(200).Must(n => !string.IsNullOrWhiteSpace(n)).WithMessage("The copy needs a name.");
        }
    }

    internal sealed class Handler(AppDbContext db, ICurrentUser currentUser, IAuditTrail audit)
        : IRequestHandler<Command, Result<SaveSubgroup.Response>>
    {
        public async Task<Result<SaveSubgroup.Response>> Handle(Command request, CancellationToken cancellationToken)
        {
            var user = await currentUser.GetAsync(cancellationToken);
            var original = await db.SavedSubgroups.AsNoTracking().VisibleTo(user.UserId)
                .Where(s => s.Id == request.Id)
                .Join(db.SavedSubgroupRevisions, s => new { Id = s.Id, s.Revision }, r => new { Id = r.SubgroupId, r.Revision }, (s, r) => r)
                .SingleOrDefaultAsync(cancellationToken);
            if (original is null)
            {
                return Error.NotFound("Subgroup");
            }

            return await SubgroupStore.SaveAsync(
                db,
                audit,
                user,
                new SubgroupStore.Draft(null, request.Name, original.Description, original.Definition, SubgroupVisibility.Private,
                    new VocabularyStamp(original.VocabularySource, original.VocabularyVersion)),
                $"{nameof(DuplicateSubgroup)} of {original.SubgroupId} revision {original.Revision}",
                cancellationToken);
        }
    }
}
