using FluentValidation;
using MediatR;
using Microsoft.EntityFrameworkCore;
using RwePortal.Application.Common;
using RwePortal.Application.Data;
using RwePortal.Application.Security;

namespace RwePortal.Application.Features.DataSources;

/// <summary>The data sources the current tenant may use, and for which purposes (what cohort building offers).</summary>
public static class ListGrantedDataSources
{
    [RequiresPermission(Permission.ViewHome)]
    public sealed record Query : IRequest<Result<IReadOnlyList<Item>>>;

    public sealed record Item(Guid DataSourceId, string Name, string Description, IReadOnlyList<string> Purposes);

    public sealed class Validator : AbstractValidator<Query>;

    internal sealed class Handler(TenantDbContextFactory contexts) : IRequestHandler<Query, Result<IReadOnlyList<Item>>>
    {
        public async Task<Result<IReadOnlyList<Item>>> Handle(Query request, CancellationToken cancellationToken)
        {
            // Bound to the current tenant: the query filter and row-level security both keep other tenants' grants out.
            await using var db = await contexts.CreateAsync(cancellationToken);
            var items = await db.DataSourceGrants.AsNoTracking()
                .Join(db.DataSources, g => g.DataSourceId, s => s.Id, (g, s) => new { s.Id, s.Name, s.Description, g.Purposes })
                .OrderBy(i => i.Name)
                .Select(i => new Item(i.Id, i.Name, i.Description, i.Purposes))
                .ToListAsync(cancellationToken);
            return items;
        }
    }
}
