using FluentValidation;
using MediatR;
using Microsoft.EntityFrameworkCore;
using RwePortal.Application.Common;
using RwePortal.Application.Data;
using RwePortal.Application.Security;

namespace RwePortal.Application.Features.Protocols;

/// <summary>The tenant's protocols, most recently changed first: the latest version and its state, the approved version.</summary>
public static class ListProtocols
{
    [RequiresPermission(Permission.ViewProtocols)]
    public sealed record Query : IRequest<Result<Response>>;

    public sealed record Response(IReadOnlyList<Item> Protocols);

    public sealed record Item(Guid Id, string Title, int LatestVersion, ProtocolVersionState LatestState, int? ApprovedVersion, string CreatedBy, DateTimeOffset UpdatedAt, bool Imported);

    public sealed class Validator : AbstractValidator<Query>;

    internal sealed class Handler(AppDbContext db, ICurrentUser currentUser) : IRequestHandler<Query, Result<Response>>
    {
        public async Task<Result<Response>> Handle(Query request, CancellationToken cancellationToken)
        {
            var user = await currentUser.GetAsync(cancellationToken);
            if (!ProtocolStore.TryTenant(db, user, out _))
            {
                return new Response([]);
            }

            var rows = await db.Protocols.AsNoTracking()
                .OrderByDescending(p => p.UpdatedAt)
                .Select(p => new
                {
                    p.Id,
                    p.Title,
                    p.LatestVersion,
                    p.CreatedBy,
                    p.UpdatedAt,
                    Imported = p.ImportedFrom != null,
                    LatestState = db.ProtocolVersions.Where(v => v.ProtocolId == p.Id && v.Version == p.LatestVersion).Select(v => v.State).Single(),
                    Approved = db.ProtocolVersions.Where(v => v.ProtocolId == p.Id && v.State == ProtocolVersionState.Approved).Select(v => (int?)v.Version).SingleOrDefault(),
                })
                .ToListAsync(cancellationToken);
            var names = await ProtocolStore.NamesAsync(db, rows.Select(r => r.CreatedBy), cancellationToken);
            return new Response(rows.Select(r => new Item(r.Id, r.Title, r.LatestVersion, r.LatestState, r.Approved, ProtocolStore.NameOf(names, r.CreatedBy), r.UpdatedAt, r.Imported)).ToList());
        }
    }
}
