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

    internal sealed class Handler(IDbContextFactory<AppDbContext> contexts) : IRequestHandler<Query, Result<IReadOnlyList<Item>>>
    {
        public async Task<Result<IReadOnlyList<Item>>> Handle(Query request, CancellationToken cancellationToken)
        {
            // Grants are the tenants' rows: the platform-wide view comes from a definer function, not a cross-tenant context.
            await using var db = await contexts.CreateDbContextAsync(cancellationToken);
            var sources = await db.DataSources.AsNoTracking().OrderBy(s => s.Name).ToListAsync(cancellationToken);
            var tenants = await db.Tenants.AsNoTracking().ToDictionaryAsync(t => t.Id, cancellationToken);
            var grants = (await db.QueryAsync<GrantRow>(
                    "SELECT data_source_id AS DataSourceId, tenant_id AS TenantId, purposes AS Purposes, granted_at AS GrantedAt FROM app.platform_data_source_grants()",
                    null,
                    cancellationToken))
                .Where(g => tenants.ContainsKey(g.TenantId))
                .Select(g => new { g.DataSourceId, g.TenantId, tenants[g.TenantId].Name, tenants[g.TenantId].IsActive, Purposes = g.Purposes.ToList(), GrantedAt = new DateTimeOffset(DateTime.SpecifyKind(g.GrantedAt, DateTimeKind.Utc)) })
                .OrderBy(g => g.Name, StringComparer.Ordinal)
                .ToList();

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

        private sealed class GrantRow
        {
            public Guid DataSourceId { get; init; }

            public Guid TenantId { get; init; }

            public string[] Purposes { get; init; } = [];

            public DateTime GrantedAt { get; init; }
        }

        private static long? Persons(string rowCounts)
        {
            var counts = JsonSerializer.Deserialize<Dictionary<string, long>>(rowCounts);
            return counts is not null && counts.TryGetValue("person", out var persons) ? persons : null;
        }
    }
}
