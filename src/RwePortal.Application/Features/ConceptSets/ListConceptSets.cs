using FluentValidation;
using MediatR;
using Microsoft.EntityFrameworkCore;
using RwePortal.Application.Common;
using RwePortal.Application.Data;
using RwePortal.Application.Features.Subgroups;
using RwePortal.Application.Security;

namespace RwePortal.Application.Features.ConceptSets;

/// <summary>The concept sets the user can use: their own and those shared with the tenant, latest edit first.</summary>
public static class ListConceptSets
{
    [RequiresPermission(Permission.ViewSubgroups)]
    public sealed record Query : IRequest<Result<IReadOnlyList<Item>>>;

    public sealed record Item(Guid Id, string Name, string? Description, SubgroupVisibility Visibility, string Owner, bool Mine, int Revision, DateTimeOffset UpdatedAt);

    public sealed class Validator : AbstractValidator<Query>;

    internal sealed class Handler(AppDbContext db, ICurrentUser currentUser) : IRequestHandler<Query, Result<IReadOnlyList<Item>>>
    {
        public async Task<Result<IReadOnlyList<Item>>> Handle(Query request, CancellationToken cancellationToken)
        {
            var user = await currentUser.GetAsync(cancellationToken);
            var rows = await db.SavedConceptSets.AsNoTracking().VisibleTo(user.UserId)
                .OrderByDescending(s => s.UpdatedAt).ThenBy(s => s.Name)
                .ToListAsync(cancellationToken);
            var names = await LibraryRecords.NamesAsync(db, rows.Select(r => r.OwnerId), cancellationToken);
            return rows.Select(r => new Item(
                r.Id, r.Name, r.Description, r.Visibility, LibraryRecords.NameOf(names, r.OwnerId), r.OwnerId == user.UserId, r.Revision, r.UpdatedAt)).ToList();
        }
    }
}
