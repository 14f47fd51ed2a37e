using System.Text.Json;
using FluentValidation;
using MediatR;
using Microsoft.EntityFrameworkCore;
using RwePortal.Application.Common;
using RwePortal.Application.Data;
using RwePortal.Application.Security;

namespace RwePortal.Application.Features.DataSources;

/// <summary>The registered data sources (app.data_sources) and which tenants may use each, for which purposes.</summary>
public static class ListDataSources
{
    [RequiresPermission(Permission.ManageDataSources)]
    public sealed record Query : IRequest<Result<IReadOnlyList<Item>>>;

    public sealed record Item(
        Guid Id,
        string Name,
        string Description,
        string CdmVersion,
        DateTimeOffset? LoadedAt,
        long? Persons,
        IReadOnlyList<Grant> Grants);

    public sealed record Grant(Guid TenantId, string TenantName, bool TenantIsActive, IReadOnlyList<string> Purposes, DateTimeOffset GrantedAt);

    public sealed class Validator : AbstractValidator<Query>;

    internal sealed class Handler(TenantDbContextFactory contexts) : IRequestHandler<Query, Result<IReadOnlyList<Item>>>
    {
        public async Task<Result<IReadOnlyList<Item>>> Handle(Query request, CancellationToken cancellationToken)
        {
            await using var db = await contexts.CreateCrossTenantAsync(cancellationToken);
            var sources = await db.DataSources.AsNoTracking().OrderBy(s => s.Name).ToListAsync(cancellationToken);
            var grants = await db.DataSourceGrants.AsNoTracking()
                .Join(db.Tenants, g => g.TenantId, t => t.Id, (g, t) => new { g.DataSourceId, g.TenantId, t.Name, t.IsActive, g.Purposes, g.GrantedAt })
                .OrderBy(g => g.Name)
                .ToListAsync(cancellationToken);

            return sources.Select(s => new Item(
                    s.Id,
                    s.Name,
                    s.Description,
                    s.CdmVersion,
                    s.LoadedAt,
                    Persons(s.RowCounts),
                    grants.Where(g => g.DataSourceId == s.Id)
                        .Select(g => new Grant(g.TenantId, g.Name, g.IsActive, g.Purposes, g.GrantedAt))
                        .ToList()))
                .ToList();
        }

        private static long? Persons(string rowCounts)
        {
            var counts = JsonSerializer.Deserialize<Dictionary<string, long>>(rowCounts);
            return counts is not null && counts.TryGetValue("person", out var persons) ? persons : null;
        }
    }
}
