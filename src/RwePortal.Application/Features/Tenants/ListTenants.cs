using FluentValidation;
using MediatR;
using Microsoft.EntityFrameworkCore;
using RwePortal.Application.Common;
using RwePortal.Application.Data;
using RwePortal.Application.Security;

namespace RwePortal.Application.Features.Tenants;

/// <summary>Every tenant on the platform, a page at a time, with its members and data source grants counted.</summary>
public static class ListTenants
{
    [RequiresPermission(Permission.ManageTenants)]
    public sealed record Query(int Page, int PageSize, string? Search = null) : IRequest<Result<Response>>;

    public sealed record Response(IReadOnlyList<Item> Items, int TotalCount);

    public sealed record Item(Guid Id, string Name, string Slug, bool IsActive, DateTimeOffset CreatedAt, int Members, int DataSources);

    public const int MaxPageSize = 100;

    public sealed class Validator : AbstractValidator<Query>
    {
        public Validator()
        {
            RuleFor(q => q.Page).GreaterThanOrEqualTo(0);
            RuleFor(q => q.PageSize).InclusiveBetween(1, MaxPageSize);
            RuleFor(q => q.Search).MaximumLength(200);
        }
    }

    internal sealed class Handler(IDbContextFactory<AppDbContext> contexts) : IRequestHandler<Query, Result<Response>>
    {
        public async Task<Result<Response>> Handle(Query request, CancellationToken cancellationToken)
        {
            // The tenant registry is platform-wide; what each tenant holds is counted by a definer function
            // (tenant rows are row-level secured per tenant).
            await using var db = await contexts.CreateDbContextAsync(cancellationToken);
            var tenants = db.Tenants.AsNoTracking();
            if (!string.IsNullOrWhiteSpace(request.Search))
            {
                var pattern = "%" + request.Search.Trim().Replace(@"\", @"\\", StringComparison.Ordinal)
                    .Replace("%", @"\%", StringComparison.Ordinal).Replace("_", @"\_", StringComparison.Ordinal) + "%";
                tenants = tenants.Where(t => EF.Functions.ILike(t.Name, pattern, @"\") || EF.Functions.ILike(t.Slug, pattern, @"\"));
            }

            var total = await tenants.CountAsync(cancellationToken);
            var page = await tenants
                .OrderBy(t => t.Name)
                .Skip(request.Page * request.PageSize).Take(request.PageSize)
                .ToListAsync(cancellationToken);
            var counts = (await db.QueryAsync<Counts>(
                    "SELECT tenant_id AS TenantId, members AS Members, data_sources AS DataSources FROM app.platform_tenant_counts() WHERE tenant_id = ANY(@ids)",
                    new { ids = page.Select(t => t.Id).ToArray() },
                    cancellationToken))
                .ToDictionary(c => c.TenantId);
            var items = page
                .Select(t => new Item(
                    t.Id,
                    t.Name,
                    t.Slug,
                    t.IsActive,
                    t.CreatedAt,
                    counts.TryGetValue(t.Id, out var c) ? c.Members : 0,
                    counts.TryGetValue(t.Id, out var d) ? d.DataSources : 0))
                .ToList();
            return new Response(items, total);
        }

        private sealed record Counts(Guid TenantId, int Members, int DataSources);
    }
}
