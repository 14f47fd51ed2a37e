using FluentValidation;
using MediatR;
using Microsoft.EntityFrameworkCore;
using RwePortal.Application.Common;
using RwePortal.Application.Data;
using RwePortal.Application.Features.Subgroups;
using RwePortal.Application.Security;

namespace RwePortal.Application.Features.ConceptSets;

/// <summary>One concept set the user can see, at its current revision or an earlier one, with its items and revisions.</summary>
public static class GetConceptSet
{
    [RequiresPermission(Permission.ViewSubgroups)]
    public sealed record Query(Guid Id, int? Revision = null) : IRequest<Result<Response>>;

    public sealed record Response(
        Guid Id,
        string Name,
        string? Description,
        SubgroupVisibility Visibility,
        string Owner,
        bool CanEdit,
        int Revision,
        IReadOnlyList<ConceptSetItem> Items,
        string VocabularyVersion,
        DateTimeOffset UpdatedAt,
        IReadOnlyList<RevisionInfo> Revisions);

    public sealed record RevisionInfo(int Revision, string Author, DateTimeOffset SavedAt);

    public sealed class Validator : AbstractValidator<Query>
    {
        public Validator()
        {
            RuleFor(q => q.Id).NotEmpty();
            RuleFor(q => q.Revision).GreaterThan(0);
        }
    }

    internal sealed class Handler(AppDbContext db, ICurrentUser currentUser) : IRequestHandler<Query, Result<Response>>
    {
        public async Task<Result<Response>> Handle(Query request, CancellationToken cancellationToken)
        {
            var user = await currentUser.GetAsync(cancellationToken);
            var head = await db.SavedConceptSets.AsNoTracking().VisibleTo(user.UserId).SingleOrDefaultAsync(s => s.Id == request.Id, cancellationToken);
            if (head is null)
            {
                return Error.NotFound("ConceptSet");
            }

            var revisions = await db.SavedConceptSetRevisions.AsNoTracking()
                .Where(r => r.ConceptSetId == head.Id)
                .OrderByDescending(r => r.Revision)
                .ToListAsync(cancellationToken);
            var shown = revisions.SingleOrDefault(r => r.Revision == (request.Revision ?? head.Revision));
            if (shown is null)
            {
                return Error.NotFound("ConceptSetRevision");
            }

            var names = await LibraryRecords.NamesAsync(db, revisions.Select(r => r.AuthorId).Append(head.OwnerId), cancellationToken);
            var vocabulary = shown.VocabularySource is { } source ? $"{shown.VocabularyVersion} ({source})" : shown.VocabularyVersion;
            return new Response(
                head.Id,
                shown.Name,
                shown.Description,
                head.Visibility,
                LibraryRecords.NameOf(names, head.OwnerId),
                head.OwnerId == user.UserId,
                shown.Revision,
                SubgroupReferences.ItemsFromJson(shown.Items),
                vocabulary,
                head.UpdatedAt,
                revisions.Select(r => new RevisionInfo(r.Revision, LibraryRecords.NameOf(names, r.AuthorId), r.SavedAt)).ToList());
        }
    }
}
