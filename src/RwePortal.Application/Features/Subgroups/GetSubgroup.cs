using FluentValidation;
using MediatR;
using Microsoft.EntityFrameworkCore;
using RwePortal.Application.Common;
using RwePortal.Application.Data;
using RwePortal.Application.Security;

namespace RwePortal.Application.Features.Subgroups;

/// <summary>
/// One saved subgroup the user can see, at its current revision or an earlier one: the definition as saved (every
/// criterion, library references as ids), the vocabulary version it was built on, and the list of revisions.
/// </summary>
public static class GetSubgroup
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
        string Definition,
        string VocabularyVersion,
        DateTimeOffset UpdatedAt,
        IReadOnlyList<RevisionInfo> Revisions,
        IReadOnlyList<ReferenceInfo>? References = null);

    public sealed record RevisionInfo(int Revision, string Author, DateTimeOffset SavedAt);

    /// <summary>
    /// A library object the shown revision names at <paramref name="Path"/> (<c>subgroup</c> or <c>conceptSet</c>),
    /// with its current name and revision; both null when the user cannot see it (deleted, private to another user).
    /// </summary>
    public sealed record ReferenceInfo(string Path, string Kind, Guid Id, string? Name, int? CurrentRevision);

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
            var head = await db.SavedSubgroups.AsNoTracking().VisibleTo(user.UserId).SingleOrDefaultAsync(s => s.Id == request.Id, cancellationToken);
            if (head is null)
            {
                return Error.NotFound("Subgroup");
            }

            var revisions = await db.SavedSubgroupRevisions.AsNoTracking()
                .Where(r => r.SubgroupId == head.Id)
                .OrderByDescending(r => r.Revision)
                .ToListAsync(cancellationToken);
            var shown = revisions.SingleOrDefault(r => r.Revision == (request.Revision ?? head.Revision));
            if (shown is null)
            {
                return Error.NotFound("SubgroupRevision");
            }

            var names = await LibraryRecords.NamesAsync(db, revisions.Select(r => r.AuthorId).Append(head.OwnerId), cancellationToken);
            var written = SubgroupReferences.Written(shown.Definition);
            var ids = written.Select(w => w.Id).ToList();
            var subgroups = await db.SavedSubgroups.AsNoTracking().VisibleTo(user.UserId).Where(s => ids.Contains(s.Id))
                .ToDictionaryAsync(s => s.Id, s => (s.Name, s.Revision), cancellationToken);
            var sets = await db.SavedConceptSets.AsNoTracking().VisibleTo(user.UserId).Where(s => ids.Contains(s.Id))
                .ToDictionaryAsync(s => s.Id, s => (s.Name, s.Revision), cancellationToken);
            var references = written.Select(w => (w.Kind == "subgroup" ? subgroups : sets).TryGetValue(w.Id, out var found)
                ? new ReferenceInfo(w.Path, w.Kind, w.Id, found.Name, found.Revision)
                : new ReferenceInfo(w.Path, w.Kind, w.Id, null, null)).ToList();
            var vocabulary = shown.VocabularySource is { } source ? $"{shown.VocabularyVersion} ({source})" : shown.VocabularyVersion;
            return new Response(
                head.Id,
                shown.Name,
                shown.Description,
                head.Visibility,
                LibraryRecords.NameOf(names, head.OwnerId),
                head.OwnerId == user.UserId,
                shown.Revision,
                shown.Definition,
                vocabulary,
                head.UpdatedAt,
                revisions.Select(r => new RevisionInfo(r.Revision, LibraryRecords.NameOf(names, r.AuthorId), r.SavedAt)).ToList(),
                references);
        }
    }
}
